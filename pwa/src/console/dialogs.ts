// One modal at a time: confirmations (with an optional or required reason) that run their action
// inside the dialog, so a failure is shown where the supervisor is looking, and the side panel
// with a device's timeline. Uses the native <dialog>: focus is trapped, Escape closes it.

import { html, nothing, type TemplateResult } from 'lit-html';
import { errorText } from './format';
import { t } from './i18n';

export interface Modal {
  /** 'dialog' is centred; 'drawer' slides in from the right (full screen on a phone). */
  kind: 'dialog' | 'drawer';
  labelledBy: string;
  content: () => TemplateResult;
  onClose?: () => void;
}

export interface AskOptions {
  title: string;
  body: TemplateResult | string;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  reason?: 'none' | 'optional' | 'required';
  /** More form fields (the edit form), rendered between the body and the reason. */
  fields?: () => TemplateResult;
  /** Return an error to show instead of running, or null when the form is fine. */
  validate?: () => string | null;
  /** Do the action; a thrown error is shown in the dialog, which stays open. */
  run: (reason: string | null) => Promise<void>;
}

export class DialogHost {
  private modal: Modal | null = null;
  private element: HTMLDialogElement | null = null;

  constructor(private readonly redraw: () => void) {}

  get isOpen(): boolean {
    return this.modal !== null;
  }

  open(modal: Modal): void {
    this.modal = modal;
    this.redraw();
  }

  /** Close the modal (the <dialog>'s close event does the bookkeeping). */
  close(): void {
    if (this.element?.open) this.element.close();
    else this.closed();
  }

  private closed(): void {
    const modal = this.modal;
    this.modal = null;
    this.element = null;
    this.redraw();
    modal?.onClose?.();
  }

  /** Open the rendered <dialog> as modal once it is in the page. */
  afterRender(root: HTMLElement): void {
    const element = root.querySelector<HTMLDialogElement>('dialog.c-modal');
    this.element = element;
    if (element && !element.open) element.showModal();
  }

  view(): TemplateResult | typeof nothing {
    const modal = this.modal;
    if (!modal) return nothing;
    return html`<dialog class="c-modal c-${modal.kind}" aria-labelledby=${modal.labelledBy}
      @close=${() => this.closed()}
      @click=${(e: MouseEvent) => {
        // A click on the backdrop (the dialog element itself, outside its box) closes a drawer.
        if (modal.kind === 'drawer' && e.target === e.currentTarget) this.close();
      }}>${modal.content()}</dialog>`;
  }

  /** Ask to confirm an action; resolve true once it ran, false when the supervisor backed out. */
  ask(options: AskOptions): Promise<boolean> {
    return new Promise((resolve) => {
      const id = `ask-${Date.now()}`;
      let reason = '';
      let error: string | null = null;
      let running = false;
      let done = false;
      const submit = async (event: Event) => {
        event.preventDefault();
        if (running) return;
        const trimmed = reason.trim();
        error = options.validate?.() ?? null;
        if (!error && options.reason === 'required' && !trimmed) error = t('reasonMissing');
        if (error) {
          this.redraw();
          return;
        }
        running = true;
        this.redraw();
        try {
          await options.run(trimmed || null);
          done = true;
          if (this.modal === modal) this.close(); // unless Escape closed it meanwhile
        } catch (failure) {
          error = errorText(failure);
          running = false;
          this.redraw();
        }
      };
      const modal: Modal = {
        kind: 'dialog',
        labelledBy: id,
        onClose: () => resolve(done),
        content: () => html`<form class="c-ask" @submit=${submit} novalidate>
          <h2 id=${id}>${options.title}</h2>
          <div class="c-ask-body">${options.body}</div>
          ${options.fields ? options.fields() : nothing}
          ${options.reason && options.reason !== 'none'
            ? html`<label for="${id}-reason">${options.reason === 'required' ? t('reasonRequired') : t('reasonOptional')}</label>
                <textarea id="${id}-reason" rows="3" maxlength="2000" data-testid="reason"
                  ?required=${options.reason === 'required'}
                  aria-invalid=${error === t('reasonMissing') ? 'true' : 'false'}
                  .value=${reason} @input=${(e: Event) => (reason = (e.target as HTMLTextAreaElement).value)}></textarea>`
            : nothing}
          ${error ? html`<p class="msg msg-error" role="alert">${error}</p>` : nothing}
          <div class="c-ask-buttons">
            <button type="button" class="btn" @click=${() => this.close()} ?disabled=${running}>${options.cancelLabel ?? t('cancel')}</button>
            <button type="submit" class="btn ${options.danger ? 'btn-danger' : 'btn-primary'}" data-testid="confirm" ?disabled=${running}>
              ${running ? t('working') : options.confirmLabel}
            </button>
          </div>
        </form>`,
      };
      this.open(modal);
    });
  }
}
