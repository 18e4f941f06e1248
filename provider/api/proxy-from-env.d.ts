/** Types of `proxy-from-env` (it ships none): the proxy URL the standard variables choose for a URL. */
declare module "proxy-from-env" {
    /** The proxy for `url` from HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, or "" when none applies (NO_PROXY). */
    export function getProxyForUrl(url: string | URL): string;
}
