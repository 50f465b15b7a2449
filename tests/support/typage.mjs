// Interop helper for tests/pq_interop.rs: drives typage (npm `age-encryption`, pinned to 0.3.1
// by .ci/run) from files in a directory. Only the local filesystem is used.
//
//   node typage.mjs <node-modules-parent> encrypt <dir>
//     generates a hybrid identity, writes <dir>/identity.txt and <dir>/recipient.txt, and
//     encrypts <dir>/plain.bin to that recipient into <dir>/typage.age
//   node typage.mjs <node-modules-parent> decrypt <dir>
//     decrypts <dir>/bisik.age with the identity in <dir>/identity.txt, writes the plaintext to
//     <dir>/plain.out and prints `sha256 <hex>` of it
//   node typage.mjs <node-modules-parent> keygen <dir>
//     generates a hybrid identity into <dir>/identity.txt and its recipient into
//     <dir>/recipient.txt
import fs from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const [base, mode, dir] = process.argv.slice(2);
if (!base || !mode || !dir) {
  console.error("usage: typage.mjs <node-modules-parent> encrypt|decrypt|keygen <dir>");
  process.exit(2);
}
const pkgDir = path.join(base, "node_modules", "age-encryption");
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, "package.json"), "utf8"));
const age = await import(pathToFileURL(path.join(pkgDir, pkg.exports ?? pkg.main)).href);
console.log(`typage ${pkg.version}`);

const file = (name) => path.join(dir, name);
if (mode === "encrypt") {
  const identity = await age.generateHybridIdentity();
  const recipient = await age.identityToRecipient(identity);
  fs.writeFileSync(file("identity.txt"), identity + "\n");
  fs.writeFileSync(file("recipient.txt"), recipient + "\n");
  const e = new age.Encrypter();
  e.addRecipient(recipient);
  fs.writeFileSync(file("typage.age"), await e.encrypt(fs.readFileSync(file("plain.bin"))));
} else if (mode === "decrypt") {
  const d = new age.Decrypter();
  d.addIdentity(fs.readFileSync(file("identity.txt"), "utf8").trim());
  const plain = await d.decrypt(fs.readFileSync(file("bisik.age")));
  fs.writeFileSync(file("plain.out"), plain);
  console.log(`sha256 ${createHash("sha256").update(plain).digest("hex")}`);
} else if (mode === "keygen") {
  const identity = await age.generateHybridIdentity();
  fs.writeFileSync(file("identity.txt"), identity + "\n");
  fs.writeFileSync(file("recipient.txt"), (await age.identityToRecipient(identity)) + "\n");
} else {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
