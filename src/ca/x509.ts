// The only module that imports node-forge, so replacing it (mockttp moved off forge in 2025 as
// "unmaintained") touches one file. Forge only lays out ASN.1 here: keys come from node:crypto and
// every signature is made by node:crypto's async sign(), which runs on the libuv thread pool in
// about 1 ms, where forge's pure-JS RSA would block the event loop for ~36 ms per certificate.
//
// Forge is required on first use, not imported: it is ~20 % of the proxy's start-up time and the
// first certificate is minted only when the first client arrives (startProxy warms it up right
// after listening: warmUpX509). Only its X.509 part (24 of its 43 files, without TLS, PKCS#7 and
// most ciphers) is required for minting; PKCS#12 (`mitm ca export`) adds its own on first use.
import { createHash, randomFillSync, sign, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';
import { derTime, TAG, tlv } from './der.js';

type Asn1 = Forge.asn1.Asn1;
let loaded: typeof Forge | undefined;

/** Loads node-forge now, so the first mint does not pay for it. */
export function warmUpX509(): void {
  forge();
}

const requireForge = createRequire(import.meta.url);
let withPkcs12 = false;

// lib/x509 defines forge.pki's certificates, and requires asn1, pem, md (SHA-1, SHA-256) and util;
// lib/forge is the namespace they all register on.
function forge(): typeof Forge {
  if (loaded === undefined) {
    requireForge('node-forge/lib/x509');
    loaded = requireForge('node-forge/lib/forge') as typeof Forge;
  }
  return loaded;
}

// pki.privateKeyFromPem and pkcs12, for the two PKCS#12 exports only.
function forgeWithPkcs12(): typeof Forge {
  if (!withPkcs12) {
    requireForge('node-forge/lib/pki');
    requireForge('node-forge/lib/pkcs12');
    withPkcs12 = true;
  }
  return forge();
}

// @types/node-forge knows fromDer's old `strict` flag only; decodeBitStrings: false keeps a BIT
// STRING's bytes as they are (forge otherwise parses a key's bits into ASN.1 of their own).
const fromDerKeepingBits = (der: string): Asn1 =>
  (forge().asn1.fromDer as unknown as (bytes: string, options: { decodeBitStrings: boolean }) => Asn1)(der, { decodeBitStrings: false });

// @types/node-forge omits getTBSCertificate, although forge's own cert.sign() is built on it.
const getTBSCertificate = (cert: Forge.pki.Certificate): Asn1 =>
  (forge().pki as unknown as { getTBSCertificate(cert: Forge.pki.Certificate): Asn1 }).getTBSCertificate(cert);

const SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
// AlgorithmIdentifier { sha256WithRSAEncryption, NULL }, as DER.
const SIGNATURE_ALGORITHM_DER = Buffer.from('300d06092a864886f70d01010b0500', 'hex');
// The OIDs of commonName (2.5.4.3) and subjectAltName (2.5.29.17), and BOOLEAN TRUE, as DER.
const COMMON_NAME_OID_DER = Buffer.from('0603550403', 'hex');
const SUBJECT_ALT_NAME_OID_DER = Buffer.from('0603551d11', 'hex');
const TRUE_DER = Buffer.from('0101ff', 'hex');
// A BIT STRING's first content byte: no unused bits.
const NO_UNUSED_BITS = Buffer.of(0);

/** The validity window and names of a root CA certificate about to be created. */
export interface RootCertificateSpec {
  readonly organization: string;
  readonly commonName: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** What distinguishes one leaf certificate from another minted by the same signer. */
export interface LeafCertificateSpec {
  /** Subject CN; omitted when undefined (RFC 5280 caps CN at 64 characters). */
  readonly commonName: string | undefined;
  /** The subjectAltName entries, in order: DNS names, or the 4 or 16 bytes of IP addresses. */
  readonly altNames: ReadonlyArray<{ readonly dns: string } | { readonly ip: Buffer }>;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** Signs leaf certificates for one CA and one shared leaf key, with the per-CA work done up front. */
export interface LeafSigner {
  /** Builds, signs and PEM-encodes one leaf certificate. */
  sign(spec: LeafCertificateSpec): Promise<string>;
}

/** Creates a self-signed RSA root CA certificate (CA:true, keyCertSign+cRLSign, SKI) and returns its PEM. */
export async function createRootCertificate(spec: RootCertificateSpec, publicKey: KeyObject, privateKey: KeyObject): Promise<string> {
  const cert = newCertificate(publicKey, spec.notBefore, spec.notAfter);
  const name = [utf8Field('organizationName', spec.organization), utf8Field('commonName', spec.commonName)];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  return signToPem(derBuffer(getTBSCertificate(cert)), privateKey);
}

/**
 * Prepares a signer for leaves issued by the CA in `caCertPem`, all carrying `leafPublicKey`
 * (RSA or EC: forge lays out only RSA keys, so the leaf's SubjectPublicKeyInfo goes in as DER).
 */
export function createLeafSigner(caCertPem: string, caKey: KeyObject, leafPublicKey: KeyObject): LeafSigner {
  const { pki } = forge();
  const caCert = pki.certificateFromPem(caCertPem);
  const rsa = leafPublicKey.asymmetricKeyType === 'rsa';

  // Everything but serial, validity, subject and SAN is the same in every leaf, so forge builds it
  // once in a template; each mint then encodes only those four fields, straight to DER (der.ts),
  // and forge stays off the per-mint path. The template is laid out around the CA's own (RSA) key,
  // then given the leaf's key and its identifier.
  const template = pki.createCertificate();
  template.publicKey = caCert.publicKey;
  template.siginfo.algorithmOid = SHA256_WITH_RSA;
  template.setExtensions([
    { name: 'basicConstraints', cA: false },
    // An EC key signs the handshake and never encrypts a key exchange (RFC 5480 §3).
    { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: rsa },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: subjectKeyIdentifier(caCert) },
  ]);
  const templateFields = children(getTBSCertificate(template));
  templateFields[TBS.issuer] = rawSubject(caCertPem, caCert.version);
  const spki = fromDerKeepingBits(leafPublicKey.export({ type: 'spki', format: 'der' }).toString('binary'));
  templateFields[TBS.spki] = spki;
  const fixedExtensions = [...children(children(templateFields[TBS.extensions])[0]), keyIdentifierExtension(spki)];
  // The fixed fields go to DER once: a mint encodes only its own four, and splices them in.
  const fixedDer = templateFields.map(derBuffer);
  const fixedExtensionsDer = Buffer.concat(fixedExtensions.map(derBuffer));

  return {
    async sign(spec) {
      const fields = [...fixedDer];
      fields[TBS.serial] = tlv(TAG.integer, randomSerial());
      fields[TBS.validity] = tlv(TAG.sequence, derTime(spec.notBefore), derTime(spec.notAfter));
      fields[TBS.subject] =
        spec.commonName === undefined
          ? tlv(TAG.sequence)
          : tlv(TAG.sequence, tlv(TAG.set, tlv(TAG.sequence, COMMON_NAME_OID_DER, tlv(TAG.utf8String, Buffer.from(spec.commonName)))));
      // extensions [3] EXPLICIT SEQUENCE OF Extension; RFC 5280 4.2.1.6: with an empty subject,
      // the SAN must be critical.
      const altName = subjectAltName(spec.altNames, spec.commonName === undefined);
      fields[TBS.extensions] = tlv(TAG.extensions, tlv(TAG.sequence, fixedExtensionsDer, altName));
      return signToPem(tlv(TAG.sequence, ...fields), caKey);
    },
  };
}

/**
 * Wraps a certificate and its private key in a PKCS#12 file encrypted with `passphrase` (AES-256),
 * for moving the CA to another machine (`mitm ca export --include-key`).
 */
export function keyAndCertificateToPkcs12(certPem: string, keyPem: string, passphrase: string, friendlyName: string): Buffer {
  const { pki, pkcs12 } = forgeWithPkcs12();
  const p12 = pkcs12.toPkcs12Asn1(pki.privateKeyFromPem(keyPem), pki.certificateFromPem(certPem), passphrase, {
    algorithm: 'aes256',
    friendlyName,
  });
  return derBuffer(p12);
}

/** Wraps a certificate (no key) in a PKCS#12 file with an empty password, for OS trust-store import. */
export function certificateToPkcs12(certPem: string, friendlyName: string): Buffer {
  const { pki, pkcs12 } = forgeWithPkcs12();
  // Forge never encrypts certificate bags and its MAC is HMAC-SHA1, so OpenSSL 3 reads the result
  // without -legacy; the password is empty rather than absent because macOS Keychain wants a MAC.
  const p12 = pkcs12.toPkcs12Asn1(null, pki.certificateFromPem(certPem), '', {
    algorithm: '3des',
    generateLocalKeyId: false,
    friendlyName,
  });
  return derBuffer(p12);
}

// Positions in a TBSCertificate that has the [0] version field, which every certificate we build has.
const TBS = { serial: 1, issuer: 3, validity: 4, subject: 5, spki: 6, extensions: 7 } as const;

// The CA's subject exactly as encoded in ca.pem: re-encoding forge's parsed copy could change string
// types or multi-valued RDNs, and clients build chains by comparing a leaf's issuer to it.
function rawSubject(certPem: string, version: number): Asn1 {
  const { asn1, pem } = forge();
  const der = pem.decode(certPem)[0]?.body;
  if (der === undefined) throw new Error('the CA certificate is not PEM');
  const tbs = children(children(asn1.fromDer(der))[0]);
  // Version 1 certificates omit the [0] version field, shifting every later field down by one.
  const subject = tbs[version === 0 ? TBS.subject - 1 : TBS.subject];
  if (subject === undefined) throw new Error('the CA certificate has no subject');
  return subject;
}

function newCertificate(publicKey: KeyObject, notBefore: Date, notAfter: Date): Forge.pki.Certificate {
  const { pki } = forge();
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = randomSerial().toString('hex');
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.siginfo.algorithmOid = SHA256_WITH_RSA;
  cert.signatureOid = SHA256_WITH_RSA;
  return cert;
}

// Only the DER bytes wait on the thread pool, not forge's object tree: during a burst of mints,
// hundreds of live trees would make every young-generation GC pause longer.
async function signToPem(tbsDer: Buffer, key: KeyObject): Promise<string> {
  const signature = await new Promise<Buffer>((resolve, reject) => {
    sign('sha256', tbsDer, key, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
  const base64 = tlv(TAG.sequence, tbsDer, SIGNATURE_ALGORITHM_DER, tlv(TAG.bitString, NO_UNUSED_BITS, signature)).toString('base64');
  const lines = base64.replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return `-----BEGIN CERTIFICATE-----\n${lines}-----END CERTIFICATE-----\n`;
}

// 16 random bytes with the top bit clear and a non-zero first byte: positive, and DER stays minimal
// at exactly 16 bytes (the CA/B Forum asks for at least 64 bits of randomness). Filled in place:
// randomBytes() would give each serial an ArrayBuffer of its own, swept by the next scavenge.
function randomSerial(): Buffer {
  const bytes = randomFillSync(Buffer.allocUnsafe(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes;
}

// UTF8String, because forge's default PrintableString cannot hold '_' (found in host names).
function utf8Field(name: string, value: string): Forge.pki.CertificateField {
  const { asn1 } = forge();
  // @types/node-forge types valueTagClass as asn1.Class, but forge reads it as the value's asn1.Type.
  return { name, value, valueTagClass: asn1.Type.UTF8 as number as Forge.asn1.Class };
}

// The CA's SKI as raw bytes, so AKI matches it even when it was not computed by RFC 5280 method 1.
function subjectKeyIdentifier(caCert: Forge.pki.Certificate): string {
  const ext: unknown = caCert.getExtension('subjectKeyIdentifier');
  const hex = (ext as { subjectKeyIdentifier?: unknown } | undefined)?.subjectKeyIdentifier;
  return typeof hex === 'string' ? forge().util.hexToBytes(hex) : caCert.generateSubjectKeyIdentifier().getBytes();
}

// The subjectAltName extension, as DER.
function subjectAltName(altNames: LeafCertificateSpec['altNames'], critical: boolean): Buffer {
  // GeneralName: [2] dNSName IA5String, [7] iPAddress OCTET STRING (RFC 5280 4.2.1.6).
  const names = altNames.map((altName) =>
    'dns' in altName ? tlv(TAG.dnsName, Buffer.from(altName.dns, 'latin1')) : tlv(TAG.ipAddress, altName.ip),
  );
  const value = tlv(TAG.octetString, tlv(TAG.sequence, ...names));
  return critical ? tlv(TAG.sequence, SUBJECT_ALT_NAME_OID_DER, TRUE_DER, value) : tlv(TAG.sequence, SUBJECT_ALT_NAME_OID_DER, value);
}

// subjectKeyIdentifier by RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits.
function keyIdentifierExtension(spki: Asn1): Asn1 {
  const { asn1 } = forge();
  const bits = children(spki)[1];
  if (bits === undefined || typeof bits.value !== 'string') throw new Error('unexpected public key structure');
  // A BIT STRING's first content byte counts its unused bits (0 for keys), and is not hashed.
  const ski = createHash('sha1')
    .update(Buffer.from(bits.value.slice(1), 'binary'))
    .digest('binary');
  const identifier = asn1.toDer(asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, ski)).getBytes();
  return sequence([oid(OID_SUBJECT_KEY_IDENTIFIER), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, identifier)]);
}

function oid(dotted: string): Asn1 {
  const { asn1 } = forge();
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
}

function sequence(items: Asn1[]): Asn1 {
  const { asn1 } = forge();
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
}

function children(node: Asn1 | undefined): Asn1[] {
  if (node === undefined || !Array.isArray(node.value)) throw new Error('unexpected certificate structure');
  return node.value;
}

function derBuffer(node: Asn1): Buffer {
  const { asn1 } = forge();
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}
