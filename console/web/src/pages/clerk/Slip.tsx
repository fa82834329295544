// The receipt and appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả),
// printed on A4 (print.css).
import { useEffect, useState } from 'preact/hooks';
import type { Dossier } from '../../api/client';
import { communeName, usePlaces } from '../../components/places';
import { Qr } from '../../components/Qr';
import { fmt, formatDateTime, formatLongDate, useLang, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { useSession } from '../../session';
import { getDossier, NotLoaded, onReadError } from './DossierPage';
import { findByCode } from './store';
import { useClerkStrings } from './strings';

interface SlipData {
  dossier: Dossier;
  bundle?: string | undefined;
  delivery?: string | undefined;
  applicant?: string | undefined;
}

function fromForm(d: Dossier): SlipData {
  const birth = d.birth;
  const death = d.death;
  return {
    dossier: d,
    bundle: death?.bundle,
    delivery: birth?.delivery ?? death?.delivery,
    applicant: birth?.requester?.fullName ?? death?.declarant?.fullName,
  };
}

function fromOutbox(code: string): SlipData | undefined {
  const item = findByCode(code);
  if (!item?.dossier) return undefined;
  const form = (item.body.form ?? {}) as Record<string, unknown>;
  const person = (form.requester ?? form.declarant) as { fullName?: string } | undefined;
  return {
    dossier: item.dossier as Dossier,
    bundle: form.bundle as string | undefined,
    delivery: form.delivery as string | undefined,
    applicant: person?.fullName,
  };
}

export function lookupUrl(code: string): string {
  return `${window.location.origin}/#/lookup?code=${encodeURIComponent(code)}`;
}

export function Slip({ code }: { code: string }) {
  const t = useT();
  const s = useClerkStrings();
  const { lang } = useLang();
  const { session } = useSession();
  const { places } = usePlaces();
  const [data, setData] = useState<SlipData | undefined>(() => fromOutbox(code));
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    const local = fromOutbox(code);
    if (local) {
      setData(local);
      // Refresh the times the server holds (appointment may move) without reading the form again.
      getDossier(code, { view: 'DOSSIER_VIEW_STATUS' })
        .then((d) => d && setData({ ...local, dossier: { ...local.dossier, ...d } }))
        .catch(() => {});
      return;
    }
    getDossier(code, { purpose: s.slipPurpose })
      .then((d) => (d ? setData(fromForm(d)) : setMissing(true)))
      .catch(onReadError(setMissing, setError));
  }, [code]);

  if (missing || !data) return <NotLoaded missing={missing} error={error} />;

  const d = data.dossier;
  const commune = communeName(places, d.communeCode || session?.communeCode);
  const group = d.group;
  const steps = d.steps ?? [];
  const url = lookupUrl(code);

  return (
    <section>
      <div class="actions no-print">
        <button type="button" onClick={() => window.print()}>
          {t.print}
        </button>
        <a class="button secondary" href={`#/clerk/dossiers/${encodeURIComponent(code)}`}>
          {fmt(s.dossierTitle, { code })}
        </a>
        <a class="button secondary" href="#/clerk/new">
          {s.startAnother}
        </a>
      </div>
      <article class="slip" data-testid="slip" aria-labelledby="slip-title">
        <header class="slip-head">
          <div class="slip-office">
            <p>{commune}</p>
            <p class="strong">{fmt(s.slipOffice, { commune })}</p>
          </div>
          <div class="slip-nation">
            <p class="strong">{s.slipNation}</p>
            <p class="underline">{s.slipMotto}</p>
          </div>
        </header>
        <h1 id="slip-title" class="slip-title">
          {s.slipTitle}
        </h1>
        <dl class="facts slip-facts">
          <dt>{s.slipCode}</dt>
          <dd class="mono strong" data-testid="slip-code">
            {code}
          </dd>
          <dt>{s.slipProcedures}</dt>
          <dd>
            <strong>{label(t, 'group', group)}</strong>
            {data.bundle && <> — {label(t, 'bundle', data.bundle)}</>}
            <ul>
              {steps.map((st) => (
                <li key={st.kind}>
                  {label(t, 'step', st.kind)} ({label(t, 'agency', st.agency)})
                </li>
              ))}
            </ul>
          </dd>
          {data.applicant && (
            <>
              <dt>{s.slipApplicant}</dt>
              <dd>{data.applicant}</dd>
            </>
          )}
          <dt>{s.slipReceivedAt}</dt>
          <dd>{formatDateTime(lang, d.receivedAt)}</dd>
          <dt>{s.slipWorkingDays}</dt>
          <dd>{d.workingDays !== undefined ? fmt(s.workingDaysN, { n: d.workingDays }) : t.none}</dd>
          <dt>{s.slipAppointment}</dt>
          <dd class="strong" data-testid="slip-appointment">
            {formatLongDate(lang, d.appointmentAt)}
          </dd>
          <dt>{s.slipReturnAt}</dt>
          <dd>{fmt(s.deliveryAt, { delivery: label(t, 'delivery', data.delivery), commune })}</dd>
        </dl>
        <div class="slip-lookup keep">
          <Qr value={url} label={fmt(s.slipLookupQr, { code })} />
          <div>
            <p>{s.slipLookup}</p>
            <p class="mono break" data-testid="slip-lookup">
              {url}
            </p>
            <p class="muted">{s.slipNote}</p>
          </div>
        </div>
        <div class="slip-sign keep">
          <div>
            <p class="strong">{s.slipApplicant}</p>
          </div>
          <div>
            <p class="strong">{s.slipClerk}</p>
            <p>{session?.displayName}</p>
          </div>
        </div>
      </article>
    </section>
  );
}
