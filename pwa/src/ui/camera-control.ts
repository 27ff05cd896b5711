// The camera on the scan screen: started when the user asks (or Replace does), brought back
// when the screen returns, released when it goes; codes and frames go to the controller.

import { saveSettings } from '../core/settings';
import { t } from './i18n';
import { getState, update } from './state';

export interface CameraHost {
  /** Codes read by the camera. */
  handleCodes(texts: string[]): Promise<void>;
  /** Every decoded frame (empty when nothing was in view). */
  cameraFrame(texts: string[]): void;
  forgetLastCode(): void;
}

export class CameraControl {
  private scanner: import('./scanner/camera').CameraScanner | null = null;
  private video: HTMLVideoElement | null = null;
  /** The user started the camera in this page session: bring it back on the scan screen. */
  wanted = false;
  /** Bumped by every release: a start still loading the scanner when it changes gives up. */
  private releases = 0;

  constructor(private readonly host: CameraHost) {}

  /** The ref callback for the scan screen's <video>: one function, so lit calls it only on change. */
  readonly videoRef = (element: Element | undefined): void => this.videoReady(element as HTMLVideoElement | undefined);

  /** The scan screen's <video> appeared (or went away). */
  videoReady(video: HTMLVideoElement | undefined): void {
    if (!video) {
      this.video = null;
      if (this.scanner) queueMicrotask(() => this.stop());
      return;
    }
    this.video = video;
    const { scan } = getState();
    if (this.wanted && !this.scanner && !scan.starting && !scan.error) void this.start(video);
  }

  /** The user asked for the camera. */
  request(): void {
    if (!this.wanted) void saveSettings({ cameraOn: true });
    this.wanted = true;
    update((s) => ({ scan: { ...s.scan, error: null } }));
    if (this.video) void this.start(this.video);
  }

  private async start(video: HTMLVideoElement): Promise<void> {
    if (this.scanner || getState().scan.starting) return;
    update((s) => ({ scan: { ...s.scan, starting: true, error: null } }));
    const release = this.releases;
    const { CameraScanner } = await import('./scanner/camera');
    // Left the scan screen while the scanner loaded: a camera started now would run unseen
    // and a label it read would open its device over the screen the user went to.
    if (this.releases !== release) return;
    const scanner = new CameraScanner(video, { onCodes: (texts) => void this.host.handleCodes(texts), onFrame: (texts) => this.host.cameraFrame(texts) });
    this.scanner = scanner;
    try {
      await scanner.start();
      if (this.scanner !== scanner) return scanner.stop(); // stopped while starting
      update((s) => ({ scan: { ...s.scan, starting: false, cameraOn: true, decoder: scanner.decoder, torchSupported: scanner.torchSupported, torchOn: false } }));
    } catch (error) {
      scanner.stop();
      if (this.scanner === scanner) this.scanner = null;
      const reason = error instanceof Error ? error.message || error.name : String(error);
      update((s) => ({ scan: { ...s.scan, starting: false, cameraOn: false, error: t('cameraDenied', { reason }) } }));
    }
  }

  /** Release the camera; `byUser` also stops it coming back on by itself. */
  stop(byUser = false): void {
    if (byUser) {
      this.wanted = false;
      void saveSettings({ cameraOn: false });
    }
    this.releases += 1;
    this.scanner?.stop();
    this.scanner = null;
    this.host.forgetLastCode();
    const { scan } = getState();
    if (scan.cameraOn || scan.starting || scan.torchOn) update((s) => ({ scan: { ...s.scan, cameraOn: false, starting: false, torchOn: false } }));
  }

  async toggleTorch(): Promise<void> {
    if (!this.scanner) return;
    try {
      await this.scanner.setTorch(!this.scanner.torchOn);
    } catch {
      // some cameras claim a torch they cannot switch
    }
    update((s) => ({ scan: { ...s.scan, torchOn: this.scanner?.torchOn ?? false } }));
  }
}
