/**
 * Stands in for asn1.js in the Lambda bundles (infra/constructs/bundling.ts).
 * The Encryption SDK uses asn1.js (and through it bn.js's big-number maths)
 * only to DER-encode and decode ECDSA signatures, in
 * `@aws-crypto/serialize/ecdsa_signature`, which defines its schema when the
 * module loads. The vault's suite carries no signature, so neither function
 * ever runs; if one did (a signed message), it fails loudly instead of
 * silently accepting something the vault never writes.
 */
const unsupported = (): never => {
  throw new Error('ECDSA signatures are not supported in this bundle (the token vault uses a signature-less suite)');
};

const asn1 = {
  define: () => ({ encode: unsupported, decode: unsupported }),
  bignum: {
    BN: function BN(): never {
      return unsupported();
    },
  },
};

export default asn1;
