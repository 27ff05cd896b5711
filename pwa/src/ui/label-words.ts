// Why a text is not a device label, in the user's words (the parser's reason codes, with the
// current platform's name for its device id).

import type { LabelError } from '../core/label';
import { currentPlatform } from '../core/platform';
import { isKey, t } from './i18n';

/** Explain why a text is not a device label, in the user's language. */
export function labelProblem(error: LabelError): string {
  const platform = currentPlatform();
  if (platform.key !== 'thingsee') {
    const params = { name: platform.device_id.name, length: error.hint.length ?? '' };
    const other = `reasonOther.${error.reason}`;
    const own = `reason.${error.reason}`;
    const text = isKey(other) ? t(other, params) : isKey(own) ? t(own, params) : t('reasonOther.not_a_device_label', params);
    return `${text} ${t('reasonTailOther', params)}`;
  }
  const key = `reason.${error.reason}`;
  const text = isKey(key) ? t(key, { length: error.hint.length ?? '' }) : t('reason.not_a_device_label');
  return `${text} ${t('reasonTail')}`;
}
