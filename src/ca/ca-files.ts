// Reading, validating and writing the two CA files. Every failure becomes a MitmError naming the
// file, and nothing here ever replaces an existing file: the CA key is the one secret users install
// trust in, so losing it to an overwrite would silently invalidate every device that trusts it.
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { type FileHandle, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { isMitmError, MitmError } from '../errors.js';

/** A parsed, validated CA: the normalised certificate PEM, both parsed forms and the private key. */
export interface ValidatedCa {
  readonly certPem: string;
  readonly cert: X509Certificate;
  readonly key: KeyObject;
}

/** Reads one CA file as text: ENOENT becomes `ca_missing` (with `hint`), any other failure `ca_unreadable`. */
export async function readCaFile(path: string, hint: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw new MitmError('ca_missing', `${path} does not exist; ${hint}`, { cause: err });
    }
    throw new MitmError('ca_unreadable', `cannot read ${path}: ${describeFsError(err)}`, { cause: err });
  }
}

/** Parses and checks a CA certificate and key; throws `ca_invalid` naming the offending file. */
export function validateCa(certText: string, keyText: string, certPath: string, keyPath: string): ValidatedCa {
  const invalid = (path: string, reason: string, cause?: unknown): MitmError =>
    new MitmError('ca_invalid', `${path}: ${reason}`, { cause });

  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certText);
  } catch (err) {
    throw invalid(certPath, `not a PEM certificate (${errorMessage(err)})`, err);
  }
  // X509Certificate#ca is OpenSSL's X509_check_ca: it also fails a keyUsage that lacks keyCertSign.
  if (!cert.ca) {
    throw invalid(certPath, 'not a CA certificate (basicConstraints CA is not true, or keyUsage lacks keyCertSign)');
  }
  const now = Date.now();
  if (Date.parse(cert.validTo) <= now) throw invalid(certPath, `the CA certificate expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now) {
    throw invalid(certPath, `the CA certificate is not valid until ${cert.validFrom}`);
  }

  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch (err) {
    throw invalid(keyPath, `not an unencrypted PEM private key (${errorMessage(err)})`, err);
  }
  // Leaves are signed with sha256WithRSAEncryption only; see x509.ts.
  if (key.asymmetricKeyType !== 'rsa') {
    throw invalid(keyPath, `holds a ${key.asymmetricKeyType ?? 'unknown'} key; only RSA CA keys are supported`);
  }
  if (!cert.checkPrivateKey(key)) throw invalid(keyPath, `the key does not match the certificate in ${certPath}`);
  return { certPem: cert.toString(), cert, key };
}

/** True if `path` exists (as anything); failures other than "no such path" become `ca_unreadable`. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    // ENOTDIR: a parent is a file, so the path cannot exist; creating the folder will say why.
    if (errnoCode(err) === 'ENOENT' || errnoCode(err) === 'ENOTDIR') return false;
    throw new MitmError('ca_unreadable', `cannot inspect ${path}: ${describeFsError(err)}`, { cause: err });
  }
}

/** Writes a new CA into `dir` (created 0700 if missing): key (0600), then certificate; never replaces a file. */
export async function writeCaFiles(
  dir: string,
  files: { certPath: string; certPem: string; keyPath: string; keyPem: string },
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    const reason = describeFsError(err);
    throw new MitmError('config_invalid', `cannot create the CA folder ${dir}: ${reason}`, { cause: err });
  }
  // Key first, certificate last: a crash in between leaves a key without a certificate, which every
  // loader rejects as incomplete (ca_missing) instead of using. Short of a crash, a failed
  // certificate write removes the key it just wrote, so no half CA is left behind.
  await writeNewFile(files.keyPath, files.keyPem, 0o600);
  try {
    await writeNewFile(files.certPath, files.certPem, 0o644);
  } catch (err) {
    await unlink(files.keyPath).catch(() => undefined);
    throw err;
  }
}

async function writeNewFile(path: string, text: string, mode: number): Promise<void> {
  // 'wx' is O_CREAT|O_EXCL, so an existing file is never replaced. The mode is set at open time, not
  // by chmod afterwards, so the key is never readable by others, even briefly.
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', mode);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') {
      // Another process created it since we looked: same code as importing over an existing CA.
      throw new MitmError('ca_invalid', `${path} already exists and will not be overwritten`, { cause: err });
    }
    throw new MitmError('config_invalid', `cannot create ${path}: ${describeFsError(err)}`, { cause: err });
  }
  try {
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw new MitmError('config_invalid', `cannot write ${path}: ${describeFsError(err)}`, { cause: err });
  }
  await handle.close();
}

/** True when `error` is writeCaFiles refusing a file another process (or call) created since the caller looked. */
export function createdElsewhere(error: unknown): boolean {
  return isMitmError(error) && errnoCode(error.cause) === 'EEXIST';
}

function errnoCode(err: unknown): string | undefined {
  const code: unknown = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const FS_REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent is not a directory',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
};

function describeFsError(err: unknown): string {
  const code = errnoCode(err);
  const reason = code === undefined ? undefined : FS_REASONS[code];
  return reason === undefined ? errorMessage(err) : `${reason} (${code})`;
}
