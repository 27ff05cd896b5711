import { beforeEach, describe, expect, it, vi } from 'vitest';

// The scanner module is loaded on demand; here it is a fake that reports what it was asked.
const started: Array<{ onCodes: (texts: string[]) => void }> = [];
vi.mock('../src/ui/scanner/camera', () => ({
  CameraScanner: class {
    decoder = 'fake';
    torchSupported = false;
    torchOn = false;
    constructor(_video: unknown, readonly callbacks: { onCodes: (texts: string[]) => void }) {}
    async start(): Promise<void> {
      started.push(this.callbacks);
    }
    stop(): void {}
  },
}));

const { CameraControl } = await import('../src/ui/camera-control');
const { getState, initState } = await import('../src/ui/state');
type AppState = Parameters<typeof initState>[0];

function host() {
  return { handleCodes: vi.fn(async (_texts: string[]) => {}), cameraFrame: vi.fn(), forgetLastCode: vi.fn() };
}

const video = {} as HTMLVideoElement;

describe('CameraControl: the camera runs only on the scan screen', () => {
  beforeEach(() => {
    started.length = 0;
    // only the camera's part of the app state matters here
    initState({ scan: { starting: false, error: null, cameraOn: false, torchOn: false } } as unknown as AppState);
  });

  it('starts the scanner and hands on what it reads', async () => {
    const h = host();
    const camera = new CameraControl(h);
    camera.videoReady(video);
    camera.request();
    await vi.waitFor(() => expect(started).toHaveLength(1));
    started[0]!.onCodes(['TSPR04EZU31901021']);
    expect(h.handleCodes).toHaveBeenCalledWith(['TSPR04EZU31901021']);
    expect(getState().scan.cameraOn).toBe(true);
    camera.stop();
  });

  it('does not start a camera released while its scanner was still loading', async () => {
    const h = host();
    const camera = new CameraControl(h);
    camera.videoReady(video);
    camera.request(); // loading the scanner module...
    camera.stop(); // ...when the user leaves the scan screen
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(started).toHaveLength(0);
    expect(getState().scan.cameraOn).toBe(false);
    expect(getState().scan.starting).toBe(false);
    expect(h.handleCodes).not.toHaveBeenCalled();
  });
});
