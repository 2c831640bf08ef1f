// The route proxy's certificate authority: made once per state directory, then used to sign a
// leaf certificate for each vendor host the proxy terminates. Apps trust it through
// NODE_EXTRA_CA_CERTS; nothing else on the machine does, so it can only fool processes that opted in.
import fs from "node:fs";
import path from "node:path";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;

export interface Ca {
  certPem: string;
  certPath: string;
  /** A key and certificate (PEM) for `host`, made on first use and kept for the process. */
  leaf(host: string): Promise<{ key: string; cert: string }>;
}

const pemKey = async (k: CryptoKey) => {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", k as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END PRIVATE KEY-----\n`;
};

const serial = () => Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString("hex").replace(/^[89a-f]/, "1");

export async function loadCa(dir: string): Promise<Ca> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certPath = path.join(dir, "ca.pem");
  const keyPath = path.join(dir, "ca-key.pem");
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    caCert = new x509.X509Certificate(fs.readFileSync(certPath, "utf8"));
    const der = x509.PemConverter.decodeFirst(fs.readFileSync(keyPath, "utf8"));
    caKey = (await webcrypto.subtle.importKey("pkcs8", der, ALG, false, ["sign"])) as CryptoKey;
  } else {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: "CN=Molar Clones local route proxy CA, O=Molar Clones",
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 3650 * DAY),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    caKey = keys.privateKey;
    // The key is written before the certificate, so a half-made CA is never taken for a whole one.
    fs.writeFileSync(keyPath, await pemKey(caKey), { mode: 0o600 });
    fs.writeFileSync(certPath, caCert.toString("pem") + "\n");
  }
  const leaves = new Map<string, Promise<{ key: string; cert: string }>>();
  const make = async (host: string) => {
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${host}`,
      issuer: caCert.subject,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 365 * DAY),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: caKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "dns", value: host }]),
        await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ],
    });
    return { key: await pemKey(keys.privateKey), cert: cert.toString("pem") + "\n" + caCert.toString("pem") + "\n" };
  };
  return {
    certPem: caCert.toString("pem") + "\n",
    certPath,
    leaf(host) {
      let p = leaves.get(host);
      if (!p) leaves.set(host, (p = make(host)));
      return p;
    },
  };
}
