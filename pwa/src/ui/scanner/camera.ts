// The camera scanner: rear camera into a <video>, frames decoded by BarcodeDetector where the
// browser has it, otherwise by the ZXing WebAssembly module; torch where the camera supports it.

export type DecoderName = 'native' | 'wasm';

interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<DetectedBarcode[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

type Decode = (video: HTMLVideoElement) => Promise<string[]>;

/** Pick the decoder: the built-in one when it reads QR codes, else ZXing. */
async function createDecoder(): Promise<{ name: DecoderName; decode: Decode }> {
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (Detector) {
    try {
      if ((await Detector.getSupportedFormats()).includes('qr_code')) {
        const detector = new Detector({ formats: ['qr_code'] });
        return { name: 'native', decode: async (video) => (await detector.detect(video)).map((b) => b.rawValue) };
      }
    } catch {
      // fall through to ZXing
    }
  }
  const { loadZxing, readQrCodes } = await import('./zxing');
  await loadZxing();
  const canvas = document.createElement('canvas');
  const context = canvas.getContext('2d', { willReadFrequently: true });
  return {
    name: 'wasm',
    decode: async (video) => {
      if (!context || !video.videoWidth) return [];
      const scale = Math.min(1, 960 / Math.max(video.videoWidth, video.videoHeight));
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      return readQrCodes(context.getImageData(0, 0, canvas.width, canvas.height));
    },
  };
}

export interface ScannerCallbacks {
  onCodes(texts: string[]): void;
  /** Every decoded frame, with what it held (often nothing). */
  onFrame?(texts: string[]): void;
}

/** A running camera scan; stop() releases the camera. */
export class CameraScanner {
  decoder: DecoderName | null = null;
  torchSupported = false;
  torchOn = false;
  private stream: MediaStream | null = null;
  private running = false;
  private timer: number | null = null;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly callbacks: ScannerCallbacks,
    private readonly intervalMs = 150,
  ) {}

  /** Open the rear camera and start decoding frames. */
  async start(): Promise<void> {
    if (!navigator.mediaDevices?.getUserMedia) throw new Error('no camera API (needs HTTPS)');
    this.stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } },
    });
    this.video.srcObject = this.stream;
    this.video.setAttribute('playsinline', '');
    this.video.muted = true;
    await this.video.play();
    const track = this.stream.getVideoTracks()[0];
    const capabilities = (track?.getCapabilities?.() ?? {}) as MediaTrackCapabilities & { torch?: boolean };
    this.torchSupported = Boolean(capabilities.torch);
    const { name, decode } = await createDecoder();
    this.decoder = name;
    this.running = true;
    const tick = async () => {
      if (!this.running) return;
      try {
        if (this.video.readyState >= 2) {
          const texts = await decode(this.video);
          if (this.running) this.callbacks.onFrame?.(texts);
          if (texts.length && this.running) this.callbacks.onCodes(texts);
        }
      } catch (error) {
        console.warn('decode failed', error);
      }
      if (this.running) this.timer = window.setTimeout(() => void tick(), this.intervalMs);
    };
    void tick();
  }

  /** Switch the torch, where the camera has one. */
  async setTorch(on: boolean): Promise<void> {
    const track = this.stream?.getVideoTracks()[0];
    if (!track || !this.torchSupported) return;
    await track.applyConstraints({ advanced: [{ torch: on } as MediaTrackConstraintSet] });
    this.torchOn = on;
  }

  /** Stop decoding and release the camera. */
  stop(): void {
    this.running = false;
    if (this.timer !== null) window.clearTimeout(this.timer);
    this.timer = null;
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.torchOn = false;
  }
}
