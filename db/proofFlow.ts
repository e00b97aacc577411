import { fetchAttachment } from '../proofs/attachmentFetcher';
import type { FileStore } from '../proofs/fileStore';
import { complaintDueDate } from '../machines/domain/deadlines';
import type {
  AttachmentRef, AttachmentResult, ComplaintCategory, ComplaintFiling, ComplaintStatusView, ProofCheck, ProofDraft,
} from '../machines/conversationTypes';
import type { Database } from './client';
import { complaintsOf, complaintSeverity, findDuplicateProof, newReference } from './proofs';

/** What the proof and complaint actors need. They only read and store files; records are written by the turn. */
export interface ProofFlowDeps {
  /** Its Prisma client is read when a proof or complaint needs it, not before (db/client.ts). */
  database: Pick<Database, 'prisma'>;
  files: FileStore;
  allowedHosts: readonly string[];
  timeZone: string;
}

/**
 * Fetches a proof file, checks it by its bytes, and stores it content-addressed. A file already
 * received answers with its receipt. Storing before the record is written is safe: the file store
 * sweeps files no record refers to (a crash between the two leaves no record and no receipt).
 */
export async function receiveAttachment(deps: ProofFlowDeps, input: { attachment: AttachmentRef }): Promise<AttachmentResult> {
  const { channelHost, ...attachment } = input.attachment;
  const fetched = await fetchAttachment(attachment, { allowedHosts: deps.allowedHosts, ...(channelHost ? { channelHost } : {}) });
  if (!fetched.ok) return { status: 'refused', reason: fetched.reason };
  const duplicate = await findDuplicateProof(deps.database.prisma, { sha256: fetched.file.sha256 });
  if (duplicate) return { status: 'duplicate', receipt: duplicate.id };
  await deps.files.put(fetched.file);
  return { status: 'stored', file: { sha256: fetched.file.sha256, fileType: fetched.file.fileType, size: fetched.file.size } };
}

/** The same file or the same method + reference again is the receipt already given. */
export async function checkProof(deps: ProofFlowDeps, input: { draft: ProofDraft }): Promise<ProofCheck> {
  const { file, method, reference } = input.draft;
  const duplicate = await findDuplicateProof(deps.database.prisma, { ...(file ? { sha256: file.sha256 } : {}), ...(method && reference ? { method, reference } : {}) });
  return duplicate ? { status: 'duplicate', receipt: duplicate.id } : { status: 'new', receipt: newReference('PP') };
}

/** A ticket number and the answer-by date (15 calendar days in the lender's time zone). */
export async function prepareComplaint(deps: ProofFlowDeps, input: { category: ComplaintCategory; now: string }): Promise<ComplaintFiling> {
  return { ticket: newReference('CP'), dueDate: complaintDueDate(new Date(input.now), deps.timeZone), severity: complaintSeverity(input.category) };
}

export async function loadComplaints(deps: ProofFlowDeps, input: { borrowerId: string }): Promise<ComplaintStatusView[]> {
  return (await complaintsOf(deps.database.prisma, input.borrowerId)).map(({ ticket, category, status, dueDate, resolution }) => ({
    ticket,
    category,
    status,
    dueDate,
    ...(resolution ? { resolution } : {}),
  }));
}
