import { useEffect, useRef, useState } from "preact/hooks";
import { failure, type Schemas } from "../api/client";
import { useServices } from "../api/context";
import { useI18n } from "../i18n";
import { dateTime } from "../ui/format";
import { type Admission, type Refusal, verifyCode } from "./code";
import { StaffOnly } from "./Door";
import { type DoorBook, GATE_KEY, loadBook, saveBook } from "./scans";

/** `/door/sessions/:id`: a gate letting a session's ticket holders in, online or not. */
export function GatePage({ id }: { id: string }) {
  return (
    <StaffOnly>
      <Gate session={id} />
    </StaffOnly>
  );
}

type Entry = Schemas["CheckinEntry"];

/** What the last scan decided, as the gate shows it. */
type Verdict =
  | { kind: "in"; entry: Entry }
  | { kind: "inOffline"; admission: Admission }
  | { kind: "already"; entry?: Entry }
  | { kind: "refused"; refusal: Refusal | "invalid" };

interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}

function Gate({ session }: { session: string }) {
  const { api } = useServices();
  const { t, locale } = useI18n();
  const d = t.door;
  const [book, setBook] = useState<DoorBook>(() => loadBook(session));
  const [gate, setGate] = useState(() => localStorage.getItem(GATE_KEY) ?? "");
  const [code, setCode] = useState("");
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [online, setOnline] = useState(navigator.onLine);
  const [busy, setBusy] = useState(false);
  const [kitError, setKitError] = useState(false);
  const [scanning, setScanning] = useState(false);
  const video = useRef<HTMLVideoElement>(null);
  const codeInput = useRef<HTMLInputElement>(null);
  // The latest book, for the handlers that outlive a render (sync on reconnect).
  const latest = useRef(book);

  const keep = (next: DoorBook) => {
    latest.current = next;
    saveBook(session, next);
    setBook(next);
  };

  const downloadKit = async () => {
    setKitError(false);
    try {
      const { data } = await api.GET("/sessions/{id}/checkin-kit", {
        params: { path: { id: session } },
      });
      if (data) keep({ ...latest.current, kit: data });
      else setKitError(true);
      if (!latest.current.show) {
        const { data: found } = await api.GET("/sessions/{id}", {
          params: { path: { id: session } },
        });
        const { data: event } = found
          ? await api.GET("/events/{id}", { params: { path: { id: found.event_id } } })
          : { data: undefined };
        if (found && event) {
          keep({ ...latest.current, show: { event: event.name, startsAt: found.starts_at } });
        }
      }
    } catch {
      setKitError(true);
    }
  };

  /** Sends the scans made offline, oldest first; stops at the first that cannot be sent. */
  const sync = async () => {
    for (const scan of latest.current.pending) {
      let answer: Awaited<ReturnType<typeof send>>;
      try {
        answer = await send(scan);
      } catch {
        return;
      }
      const rest = latest.current.pending.filter((p) => p.nonce !== scan.nonce);
      const refused = answer.error ? failure(answer.error) : null;
      const problem = refused?.kind === "problem" ? refused.problem : null;
      const conflict =
        problem?.code === "ALREADY_CHECKED_IN" && problem.conflict && problem.entry
          ? [{ ticket: scan.ticket, gate: problem.entry.gate, at: problem.entry.at }]
          : [];
      keep({
        ...latest.current,
        pending: rest,
        conflicts: [...latest.current.conflicts, ...conflict],
      });
    }
  };

  const send = (scan: { code: string; gate: string; nonce: string; scanned_at?: string }) =>
    api.POST("/checkins", {
      body: {
        session_id: session,
        code: scan.code,
        gate: scan.gate,
        nonce: scan.nonce,
        ...(scan.scanned_at ? { scanned_at: scan.scanned_at } : {}),
      },
    });

  useEffect(() => {
    const up = () => {
      setOnline(true);
      void sync();
    };
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    if (navigator.onLine) {
      void downloadKit();
      void sync();
    }
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
    };
  }, [session]);

  /** Checks `scanned` in: with the box office when it answers, else from the kit. */
  const check = async (scanned: string) => {
    const text = scanned.trim();
    if (!text || !gate.trim()) return;
    setBusy(true);
    const nonce = crypto.randomUUID();
    try {
      if (navigator.onLine) {
        try {
          const { data, error } = await send({ code: text, gate: gate.trim(), nonce });
          const refused = error ? failure(error) : null;
          const problem = refused?.kind === "problem" ? refused.problem : null;
          if (data) {
            keep({ ...latest.current, letIn: [...latest.current.letIn, data.ticket] });
            setVerdict({ kind: "in", entry: data });
          } else if (problem?.code === "ALREADY_CHECKED_IN") {
            setVerdict({ kind: "already", entry: problem.entry });
          } else if (problem?.code === "TICKET_REVOKED") {
            setVerdict({ kind: "refused", refusal: "revoked" });
          } else if (problem?.code === "WRONG_SESSION") {
            setVerdict({ kind: "refused", refusal: "wrongSession" });
          } else {
            setVerdict({ kind: "refused", refusal: "invalid" });
          }
          return;
        } catch {
          setOnline(false);
        }
      }
      const kit = latest.current.kit;
      if (!kit) {
        setVerdict({ kind: "refused", refusal: "unknownKey" });
        return;
      }
      const checked = await verifyCode(text, kit, session);
      if (!checked.ok) {
        setVerdict({ kind: "refused", refusal: checked.refusal });
        return;
      }
      const ticket = checked.admission.ticket;
      if (latest.current.letIn.includes(ticket)) {
        setVerdict({ kind: "already" });
        return;
      }
      keep({
        ...latest.current,
        letIn: [...latest.current.letIn, ticket],
        pending: [
          ...latest.current.pending,
          { code: text, ticket, gate: gate.trim(), nonce, scanned_at: new Date().toISOString() },
        ],
      });
      setVerdict({ kind: "inOffline", admission: checked.admission });
    } finally {
      setBusy(false);
      setCode("");
      codeInput.current?.focus();
    }
  };

  const Detector = (globalThis as { BarcodeDetector?: new (o: object) => BarcodeDetectorLike })
    .BarcodeDetector;
  const scanWithCamera = async () => {
    if (!Detector || !video.current) return;
    setScanning(true);
    const stream = await navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" } })
      .catch(() => null);
    if (!stream) return setScanning(false);
    video.current.srcObject = stream;
    await video.current.play();
    const detector = new Detector({ formats: ["qr_code"] });
    const stop = () => {
      for (const track of stream.getTracks()) track.stop();
      setScanning(false);
    };
    const look = async () => {
      if (!video.current) return stop();
      const found = await detector.detect(video.current).catch(() => []);
      if (found[0]) {
        stop();
        await check(found[0].rawValue);
      } else {
        requestAnimationFrame(() => void look());
      }
    };
    void look();
  };

  const seatOf = (sector: string, seat?: string | null) =>
    seat ? d.seatIn(seat, sector) : d.standing(sector);

  return (
    <section class="door">
      <p>
        <a href="/door">{d.otherSession}</a>
      </p>
      <h1>{d.title}</h1>
      {book.show && (
        <p class="when">
          {book.show.event} · {dateTime(book.show.startsAt, locale)}
        </p>
      )}
      <p role="status" class={online ? "online" : "offline"}>
        {online ? d.online : d.offline}
      </p>
      <p>
        {book.kit
          ? d.kitReady(
              dateTime(book.kit.generated_at, locale),
              book.kit.keys.length,
              book.kit.revoked.length,
            )
          : d.noKit}{" "}
        <button type="button" class="link" onClick={() => void downloadKit()}>
          {d.downloadKit}
        </button>
      </p>
      {kitError && (
        <p class="problem" role="alert">
          {d.kitFailed}
        </p>
      )}
      <form
        class="checkin"
        onSubmit={(e) => {
          e.preventDefault();
          void check(code);
        }}
      >
        <label>
          {d.gate}
          <input
            value={gate}
            maxLength={40}
            required
            onInput={(e) => {
              const value = (e.currentTarget as HTMLInputElement).value;
              setGate(value);
              localStorage.setItem(GATE_KEY, value);
            }}
          />
        </label>
        <label>
          {d.code}
          <input
            ref={codeInput}
            value={code}
            autoComplete="off"
            spellcheck={false}
            required
            onInput={(e) => setCode((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" disabled={busy}>
          {d.checkIn}
        </button>
        {Detector && (
          <button type="button" onClick={() => void scanWithCamera()} disabled={scanning}>
            {d.scan}
          </button>
        )}
      </form>
      <video ref={video} hidden={!scanning} muted playsInline aria-label={d.camera} />
      <div aria-live="polite">
        {verdict?.kind === "in" && (
          <p class="verdict in">
            {d.letIn} {seatOf(verdict.entry.sector, verdict.entry.seat)}
          </p>
        )}
        {verdict?.kind === "inOffline" && (
          <p class="verdict in">
            {d.letInOffline} {seatOf(verdict.admission.sector, verdict.admission.seat)}
          </p>
        )}
        {verdict?.kind === "already" && (
          <p class="verdict refused" role="alert">
            {verdict.entry
              ? d.alreadyIn(dateTime(verdict.entry.at, locale), verdict.entry.gate)
              : d.alreadyInHere}
          </p>
        )}
        {verdict?.kind === "refused" && (
          <p class="verdict refused" role="alert">
            {d.refusals[verdict.refusal]}
          </p>
        )}
      </div>
      <h2>{d.pendingTitle}</h2>
      <p>{d.pending(book.pending.length)}</p>
      {book.pending.length > 0 && (
        <button type="button" onClick={() => void sync()} disabled={!online}>
          {d.sendNow}
        </button>
      )}
      {book.conflicts.length > 0 && (
        <>
          <h2>{d.conflictsTitle}</h2>
          <ul>
            {book.conflicts.map((c) => (
              <li key={`${c.ticket}-${c.at}`}>
                {d.conflict(c.ticket, c.gate, dateTime(c.at, locale))}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
