// How much each TLS socket of an intercepted link buffers before it pushes back. Node's default
// (16 KiB) is one TLS record: a pipe between two TLS sockets then pauses and resumes the reading
// side for every record, a round trip through the native read loop each time. 256 KiB lets bulk
// transfers flow in larger runs (`npm run bench -- --only=download,upload`, docs/performance.md),
// and costs nothing on an idle connection: it is a limit, not an allocation.
//
// Spread into tls.connect() options (documented there) and TLSSocket's (which hands it to
// net.Socket likewise); @types/node 20 declares it for neither, hence an object, not a literal.
export const TLS_BUFFERING: { readonly highWaterMark: number } = { highWaterMark: 256 * 1024 };
