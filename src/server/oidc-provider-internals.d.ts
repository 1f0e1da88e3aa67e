// oidc-provider ships no types for its route modules; certbound reaches these three (see introspection.ts).
declare module 'oidc-provider/lib/actions/introspection.js' {
  const middleware: ((ctx: unknown, next: () => Promise<void>) => unknown)[];
  export default middleware;
}
declare module 'oidc-provider/lib/actions/revocation.js' {
  const middleware: ((ctx: unknown, next: () => Promise<void>) => unknown)[];
  export default middleware;
}
declare module 'oidc-provider/lib/shared/reject_structured_tokens.js' {
  export default function rejectStructuredTokens(ctx: unknown, next: () => Promise<void>): Promise<void>;
}
