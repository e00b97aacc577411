/** Entity extraction from borrowers' free text: pure and deterministic (the caller passes "now"). */
export { extractAmounts, type Amount } from './money';
export { extractDates, type DateEntity, type DateReference } from './dates';
export { extractInstallmentCount, type CountOptions } from './counts';
export { extractPaymentMethod, type PaymentMethod } from './paymentMethod';
export { extractComplaintCategory, type ComplaintCategory } from './complaintCategory';
