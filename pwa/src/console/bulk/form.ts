// The new-job form: the action, the devices (pasted list, CSV upload or a whole group) and the
// dry run it starts. It holds only the form's state; the section shows the job it creates.

import { html, nothing, type TemplateResult } from 'lit-html';
import { BULK_ACTIONS, type BulkAction, type BulkJob, type Group } from '../api';
import { errorText, num } from '../format';
import { t } from '../i18n';
import type { Host } from '../section';
import { Poller, type PollClock } from './poller';
import { entries, fileLineCount, previewRequest, type Source } from './rules';

export class BulkForm {
  private action: BulkAction = 'retire';
  private targetGroup = '';
  private source: Source = 'paste';
  private text = '';
  private file: File | null = null;
  private fileLines: number | null = null;
  private sourceGroup = '';
  private formError: string | null = null;
  private previewing: { count: number | null; started: number } | null = null;
  private groups: Group[] = [];
  private groupsError: string | null = null;
  /** The platform's name when it has no deployment groups (no moves, no whole-group jobs). */
  private withoutGroups: string | null = null;
  /** Redraws once a second while the dry run is being started, for its elapsed time. */
  private readonly ticker: Poller;

  constructor(
    private readonly host: Host,
    private readonly clock: PollClock,
    /** Called with the job a dry run created. */
    private readonly previewed: (job: BulkJob) => void,
  ) {
    this.ticker = new Poller(clock, 1_000);
    host.api.platform().then(
      (platform) => {
        this.withoutGroups = platform.capabilities.deployment_groups ? null : platform.title;
        if (this.withoutGroups && this.action === 'move') this.action = 'retire';
        if (this.withoutGroups && this.source === 'group') this.source = 'paste';
        host.redraw();
      },
      () => undefined, // an older backend: every action stays offered
    );
    host.groups().then(
      (groups) => {
        this.groups = groups;
        this.groupsError = null;
        host.redraw();
      },
      (error: unknown) => {
        this.groupsError = t('groupsUnavailable', { message: errorText(error) });
        host.redraw();
      },
    );
  }

  private async preview(event: Event): Promise<void> {
    event.preventDefault();
    if (this.previewing) return;
    const request = previewRequest({
      action: this.action,
      targetGroup: this.targetGroup,
      source: this.source,
      text: this.text,
      hasFile: this.file !== null,
      fileLines: this.fileLines,
      sourceGroup: this.sourceGroup,
    });
    if ('error' in request) {
      this.formError = t(request.error);
      this.host.redraw();
      return;
    }
    this.formError = null;
    this.previewing = { count: request.count, started: this.clock.now() };
    this.ticker.start(() => {
      this.host.redraw();
      return this.previewing !== null;
    });
    this.host.redraw();
    try {
      const answer =
        this.source === 'csv' && this.file
          ? await this.host.api.bulk.previewUpload(this.action, request.targetGroup, this.file)
          : await this.host.api.bulk.preview(this.action, request.targetGroup, request.targets ?? { text: this.text });
      this.text = '';
      this.file = null;
      this.fileLines = null;
      this.previewed(answer.job);
    } catch (error) {
      this.formError = errorText(error);
    } finally {
      this.previewing = null;
      this.ticker.stop();
      this.host.redraw();
    }
  }

  private async chooseFile(event: Event): Promise<void> {
    const input = event.target as HTMLInputElement;
    this.file = input.files?.[0] ?? null;
    this.fileLines = null;
    this.formError = null;
    this.host.redraw();
    if (!this.file) return;
    try {
      this.fileLines = fileLineCount(await this.file.text());
    } catch {
      this.fileLines = null;
    }
    this.host.redraw();
  }

  view(): TemplateResult {
    const busyNow = this.previewing !== null;
    const set = (apply: (value: string) => void) => (e: Event) => {
      apply((e.target as HTMLInputElement).value);
      this.formError = null;
      this.host.redraw();
    };
    const groupOptions = (selected: string, skipUnassigned: boolean) =>
      this.groups
        .filter((g) => !(skipUnassigned && g.group_id === 'unassigned'))
        .map((g) => html`<option value=${g.group_id} ?selected=${selected === g.group_id}>
          ${g.group_id}${g.description ? ` – ${g.description}` : ''}</option>`);
    return html`<section class="c-card c-newjob" aria-labelledby="new-job">
      <h2 id="new-job">${t('newJob')}</h2>
      <form @submit=${(e: Event) => void this.preview(e)} novalidate aria-busy=${busyNow ? 'true' : 'false'}>
        <div class="c-newjob-grid">
          <div>
            <fieldset class="c-options" ?disabled=${busyNow}>
              <legend>${t('bulkAction')}</legend>
              ${BULK_ACTIONS.filter((a) => a !== 'move' || !this.withoutGroups).map(
                (a) => html`<label class="c-option ${this.action === a ? 'c-option-on' : ''}">
                  <input type="radio" name="bulk-action" value=${a} .checked=${this.action === a} data-testid="action-${a}"
                    @change=${set(() => (this.action = a))} />
                  <span><strong>${t(`action.${a}`)}</strong><span class="sub c-block">${t(`actionHelp.${a}`)}</span></span>
                </label>`,
              )}
            </fieldset>
            ${this.action === 'move'
              ? html`<div class="c-field">
                  <label for="bulk-target">${t('targetGroup')}</label>
                  <select id="bulk-target" data-testid="target-group" ?disabled=${busyNow} @change=${set((v) => (this.targetGroup = v))}>
                    <option value="" ?selected=${!this.targetGroup}>${t('pickGroup')}</option>
                    ${groupOptions(this.targetGroup, false)}
                  </select>
                </div>`
              : nothing}
            ${this.groupsError && !this.withoutGroups ? html`<p class="sub c-refused">${this.groupsError}</p>` : nothing}
            ${this.withoutGroups ? html`<p class="sub" data-testid="no-groups">${t('noGroupsOnPlatform', { platform: this.withoutGroups })}</p>` : nothing}
          </div>
          <div>
            <fieldset class="c-segmented" ?disabled=${busyNow}>
              <legend>${t('targets')}</legend>
              ${(['paste', 'csv', 'group'] as const).filter((s) => s !== 'group' || !this.withoutGroups).map(
                (s) => html`<label class=${this.source === s ? 'c-seg-on' : ''}>
                  <input type="radio" name="bulk-source" value=${s} .checked=${this.source === s} data-testid="source-${s}"
                    @change=${set(() => (this.source = s))} />
                  ${t(s === 'paste' ? 'sourcePaste' : s === 'csv' ? 'sourceCsv' : 'sourceGroup')}
                </label>`,
              )}
            </fieldset>
            ${this.source === 'paste'
              ? html`<div class="c-field">
                  <label for="bulk-text">${t('pasteLabel')}</label>
                  <textarea id="bulk-text" class="mono" rows="7" spellcheck="false" autocomplete="off" data-testid="paste"
                    aria-describedby="bulk-text-help" ?disabled=${busyNow}
                    .value=${this.text} @input=${set((v) => (this.text = v))}></textarea>
                  <p class="sub" id="bulk-text-help">${t('pasteHelp')} ${this.text.trim() ? t('pasteCount', { count: num(entries(this.text).length) }) : ''}</p>
                </div>`
              : nothing}
            ${this.source === 'csv'
              ? html`<div class="c-field">
                  <label for="bulk-file">${t('csvLabel')}</label>
                  <input id="bulk-file" type="file" accept=".csv,.txt,text/csv,text/plain" data-testid="csv-file"
                    aria-describedby="bulk-file-help" ?disabled=${busyNow} @change=${(e: Event) => void this.chooseFile(e)} />
                  <p class="sub" id="bulk-file-help">
                    ${this.file && this.fileLines !== null ? t('csvChosen', { name: this.file.name, count: num(this.fileLines) }) : t('csvHelp')}
                  </p>
                </div>`
              : nothing}
            ${this.source === 'group'
              ? html`<div class="c-field">
                  <label for="bulk-group">${t('groupLabel')}</label>
                  <select id="bulk-group" data-testid="source-group-select" ?disabled=${busyNow} @change=${set((v) => (this.sourceGroup = v))}>
                    <option value="" ?selected=${!this.sourceGroup}>${t('pickGroup')}</option>
                    ${groupOptions(this.sourceGroup, true)}
                  </select>
                </div>`
              : nothing}
          </div>
        </div>
        ${this.formError ? html`<p class="msg msg-error" role="alert">${this.formError}</p>` : nothing}
        <div class="c-form-end">
          <button type="submit" class="btn btn-primary" data-testid="preview" ?disabled=${busyNow}>${t('previewButton')}</button>
          ${this.previewing ? this.previewProgress(this.previewing) : nothing}
        </div>
      </form>
    </section>`;
  }

  private previewProgress(p: { count: number | null; started: number }): TemplateResult {
    const seconds = Math.floor((this.clock.now() - p.started) / 1000);
    return html`<div class="c-previewing" role="status" data-testid="previewing">
      <p class="c-busy"><span class="c-spinner" aria-hidden="true"></span>
        <strong>${p.count !== null
          ? t('previewing', { count: num(p.count) })
          : this.source === 'group'
            ? t('previewingGroup')
            : t('previewingSome')}</strong></p>
      <p class="sub">${t('previewTakesTime')} <span aria-hidden="true">${t('elapsed', { seconds })}</span></p>
    </div>`;
  }

}
