import { run, type RunResult } from './run.js';

// Python's own stack (urllib + ssl, OpenSSL underneath, hostname checking on) through the proxy.
const PYTHON_GET = `
import ssl, sys, urllib.request
context = ssl.create_default_context(cafile=sys.argv[2])
opener = urllib.request.build_opener(
    urllib.request.ProxyHandler({"https": sys.argv[3]}),
    urllib.request.HTTPSHandler(context=context),
)
with opener.open(sys.argv[1], timeout=20) as response:
    sys.stdout.write(f"{response.status} {response.read().decode()}")
`;

/** GETs `url` with python3's urllib through the proxy at `proxyUrl`, trusting `caPath`; stdout is `STATUS BODY`. */
export function pythonGet(url: string, caPath: string, proxyUrl: string): Promise<RunResult> {
  return run('python3', ['-c', PYTHON_GET, url, caPath, proxyUrl], { timeoutMs: 30_000 });
}
