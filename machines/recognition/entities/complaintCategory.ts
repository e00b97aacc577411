import { normalizeKeepingOffsets } from './text';

/**
 * The category of a complaint (CONTRACT.md §6), from the borrower's description. When a message
 * touches several, the most serious wins, in this order: collection conduct (harassment, calls to
 * family), privacy, repayment processing, fees and penalties, service. So "催收态度差" is collection
 * conduct, not service, and "服务费太高" is a fee. "其他 / other" alone gives 'other'; nothing
 * recognisable gives undefined, so the bot can ask.
 */
export type ComplaintCategory = 'collection_conduct' | 'fees_and_penalties' | 'privacy' | 'repayment_processing' | 'service' | 'other';

const CONTACTS = '家人|家里|父母|爸妈|老婆|老公|亲戚|朋友|同事|单位|公司|领导|老板|通讯录|联系人';

const CATEGORIES: Array<{ category: ComplaintCategory; re: RegExp }> = [
  {
    category: 'collection_conduct',
    re: new RegExp(
      `催收|催债|骚扰|威胁|恐吓|辱骂|骂人|爆通讯录|(?:打电话|打给|打到|联系|找|告诉|通知).{0,6}(?:${CONTACTS})|(?:天天|一直|不停|半夜|反复|每天)打电话|(?<![a-z])(?:harass\\w*|threat\\w*|abus\\w*|collectors?|(?:called|calling|calls|contacted|contacting)\\s+my\\s+(?:family|parents|wife|husband|friends|boss|employer|work|colleagues|contacts))(?![a-z])`,
      'i',
    ),
  },
  { category: 'privacy', re: /隐私|泄露|泄漏|个人信息|信息安全|(?<![a-z])(?:privacy|data|leak\w*|personal\s+(?:information|info|details))(?![a-z])/i },
  {
    category: 'repayment_processing',
    re: /没到账|未到账|不到账|没入账|未入账|入账|到账|扣款|扣钱|多扣|重复扣|扣了两次|还款失败|还款没(?:有)?(?:显示|更新)|(?<![a-z])(?:not\s+credited|payment\s+(?:not|wasn'?t|hasn'?t)\s+(?:been\s+)?(?:credited|received|applied|recorded)|deducted|charged\s+twice|double\s+charged?)(?![a-z])/i,
  },
  {
    category: 'fees_and_penalties',
    re: /罚息|发息|罚款|利息|违约金|滞纳金|手续费|服务费|收费|费用|乱收|(?<![a-z])(?:fees?|interest|penalt(?:y|ies)|charges|late\s+charge)(?![a-z])/i,
  },
  { category: 'service', re: /服务|态度|客服|没人回|不理人|(?<![a-z])(?:service|rude|support|unhelpful)(?![a-z])/i },
  { category: 'other', re: /其他|其它|别的|(?<![a-z])(?:other|something\s+else)(?![a-z])/i },
];

export function extractComplaintCategory(text: string): ComplaintCategory | undefined {
  const norm = normalizeKeepingOffsets(text);
  return CATEGORIES.find(({ re }) => re.test(norm))?.category;
}
