// After a batch: which of today's installs have reported (verified), which the backend still
// waits for, and which are silent, without opening each card. Asked of the backend when online
// (at most once a minute); offline, the last answer is shown with its age.

import { html, nothing, type TemplateResult } from 'lit-html';
import type { Api } from '../core/api';
import type { DeviceVerification, OutboxOp, VerificationState } from '../core/types';
import { relativeTime } from './screens/device-health';
import { t } from './i18n';
import { update } from './state';

const STORE_KEY = 'fieldhand.batch-verification';
const ASK_EVERY_MS = 60_000;

interface Known {
  at: number;
  states: Record<string, { state: VerificationState; tuid: string }>;
}

let known: Known | null = null;
let asking = false;
let askedFor = '';

function load(): Known {
  if (known) return known;
  try {
    known = JSON.parse(localStorage.getItem(STORE_KEY) ?? 'null') as Known | null;
  } catch {
    known = null;
  }
  known ??= { at: 0, states: {} };
  return known;
}

async function ask(api: Api, opIds: string[]): Promise<void> {
  asking = true;
  try {
    const answer = await api.request<{ items: Record<string, DeviceVerification> }>('GET', '/api/verifications', {
      query: { ops: opIds.join(',') },
    });
    const states: Known['states'] = {};
    for (const [opId, v] of Object.entries(answer.items)) states[opId] = { state: v.state, tuid: v.tuid };
    known = { at: Date.now(), states };
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(known));
    } catch {
      // private mode: kept for this page only
    }
    update({}); // draw again
  } catch {
    // offline or refused: the last answer stays, with its age
  } finally {
    asking = false;
  }
}

/** The summary line and the silent ones of today's synced installs; nothing when there are none. */
export function batchVerification(ops: OutboxOp[], api: Api, online: boolean, since: number): TemplateResult | typeof nothing {
  const installs = ops.filter((op) => (op.kind === 'install' || op.kind === 'replace') && op.state === 'synced' && op.created_at >= since);
  if (!installs.length) return nothing;
  const k = load();
  const ids = installs.map((op) => op.op_id);
  const unknown = ids.some((id) => !k.states[id]);
  const waiting = ids.some((id) => k.states[id]?.state === 'waiting');
  const question = ids.slice(-500).join(',');
  // A new install is asked about at once; installs still waiting, once a minute.
  const due = (unknown && question !== askedFor) || (waiting && Date.now() - k.at > ASK_EVERY_MS);
  if (online && !asking && due) {
    askedFor = question;
    void ask(api, ids.slice(-500));
  }
  const counts = { verified: 0, waiting: 0, silent: 0 };
  const silent: string[] = [];
  for (const id of ids) {
    const entry = k.states[id];
    const state = entry?.state ?? 'waiting';
    if (state === 'verified') counts.verified += 1;
    else if (state === 'silent') {
      counts.silent += 1;
      silent.push(entry?.tuid ?? '');
    } else if (state === 'waiting') counts.waiting += 1;
  }
  return html`<section class="batch-verify" aria-labelledby="batch-verify-title" data-testid="batch-verification">
    <h2 id="batch-verify-title">${t('batchVerifyTitle')}</h2>
    <p role="status">
      <span class="verify-count verify-verified" data-testid="batch-verified">${t('batchVerified', { count: counts.verified })}</span>
      · <span class="verify-count verify-waiting" data-testid="batch-waiting">${t('batchWaiting', { count: counts.waiting })}</span>
      · <span class="verify-count verify-silent" data-testid="batch-silent">${t('batchSilent', { count: counts.silent })}</span>
    </p>
    ${k.at ? html`<p class="note">${t('batchVerifyAge', { age: relativeTime(k.at) })}</p>` : nothing}
    ${silent.length
      ? html`<ul class="list">${silent.map((tuid) => html`<li><a class="mono" href="#/device/${tuid}">${tuid}</a></li>`)}</ul>
          <p class="note">${t('verifySilentNextStep')}</p>`
      : nothing}
  </section>`;
}
