// The device card's questions before an action, in the user's language (which question is a
// rule in core/actions.ts).

import type { Confirmation } from '../core/actions';
import { t } from './i18n';

/** Return the device card's question, in the user's language. */
export function confirmationText(question: NonNullable<Confirmation>, tuid: string, currentGroup: string | null, target: string | null): string {
  switch (question) {
    case 'installInstalled':
      return t('confirmInstallInstalled', { group: currentGroup ? t('inGroup', { group: currentGroup }) : '', target: target ?? '' });
    case 'installQuarantine':
      return t('confirmInstallQuarantine', { target: target ?? '' });
    case 'installRetired':
      return t('confirmInstallRetired', { target: target ?? '' });
    case 'remove':
      return t('confirmRemove', { tuid });
    case 'quarantine':
      return t('confirmQuarantine', { tuid });
    case 'retire':
      return t('confirmRetire', { tuid });
  }
}
