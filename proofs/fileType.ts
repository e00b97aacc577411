/**
 * What a proof file is, decided by its first bytes only: a name or a declared content type is
 * whatever the sender chose, so a text file renamed `receipt.png` must not pass as an image.
 */
export type ProofFileType = 'image/jpeg' | 'image/png' | 'application/pdf';

const SIGNATURES: ReadonlyArray<readonly [ProofFileType, Buffer]> = [
  ['image/jpeg', Buffer.from([0xff, 0xd8, 0xff])],
  ['image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])],
  ['application/pdf', Buffer.from('%PDF-', 'latin1')],
];

export function sniffFileType(bytes: Buffer): ProofFileType | undefined {
  return SIGNATURES.find(([, magic]) => bytes.subarray(0, magic.length).equals(magic))?.[0];
}

/** The file name extension staff see when they download a proof. */
export function extensionOf(type: string): string {
  return type === 'image/jpeg' ? 'jpg' : type === 'image/png' ? 'png' : type === 'application/pdf' ? 'pdf' : 'bin';
}
