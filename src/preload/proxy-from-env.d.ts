// proxy-from-env ships no type declarations; this is the one function we use (see its README).
declare module 'proxy-from-env' {
  /** The proxy URL for `url` per *_PROXY and NO_PROXY in process.env, or '' to connect directly. */
  export function getProxyForUrl(url: string | URL): string;
}
