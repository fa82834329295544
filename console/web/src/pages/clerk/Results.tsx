// Returning results: the signed certificate extract, ready to print with a
// QR code of its verify link, and each procedure's result (card number,
// validity, ...).
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, type CertificateExtract, type Dossier } from '../../api/client';
import { payloadJson, verifyLink } from '../../components/extract';
import { KeyValues, useExtractKind } from '../../components/KeyValues';
import { Qr } from '../../components/Qr';
import { Time } from '../../components/Time';
import { fmt, useT } from '../../i18n';
import { label } from '../../i18n/labels';
import { getDossier, NotYours } from './DossierPage';
import { useClerkStrings } from './strings';

export function Results({ code }: { code: string }) {
  const t = useT();
  const s = useClerkStrings();
  const [dossier, setDossier] = useState<Dossier | undefined>(undefined);
  const [extract, setExtract] = useState<CertificateExtract | null | undefined>(undefined);
  const [extractError, setExtractError] = useState('');
  const [missing, setMissing] = useState(false);
  const kindLabel = useExtractKind();

  useEffect(() => {
    getDossier(code, { view: 'DOSSIER_VIEW_STATUS' })
      .then(setDossier)
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setMissing(true);
      });
    call((signal) => client.GET('/v1/dossiers/{code}/extract', { params: { path: { code } }, signal }))
      .then((res) => setExtract(res.extract ?? null))
      .catch((e: unknown) => {
        if (e instanceof ApiError && (e.status === 404 || e.status === 403)) setMissing(true);
        else if (e instanceof ApiError && e.status === 412) setExtract(null);
        else setExtractError((e as Error).message);
      });
  }, [code]);

  if (missing) return <NotYours />;

  const link = extract ? verifyLink(extract) : '';
  const content = extract ? payloadJson(extract) : undefined;
  const download = extract
    ? `data:application/json;charset=utf-8,${encodeURIComponent(JSON.stringify({ extract }, null, 2))}`
    : '';
  const steps = (dossier?.steps ?? []).filter((st) => st.result && Object.keys(st.result).length);

  return (
    <section>
      <h1>{fmt(s.resultsTitle, { code })}</h1>
      <div class="actions no-print">
        <button type="button" onClick={() => window.print()}>
          {t.print}
        </button>
        <a class="button secondary" href={`#/clerk/dossiers/${encodeURIComponent(code)}`}>
          {t.back}
        </a>
      </div>

      <section class="card keep" aria-labelledby="extract-h">
        <h2 id="extract-h">{s.extractTitle}</h2>
        {extract === undefined && !extractError && <p aria-live="polite">{t.loading}</p>}
        {extractError && (
          <p class="alert alert-error" role="alert">
            {fmt(s.extractFailed, { message: extractError })}
          </p>
        )}
        {extract === null && <p>{s.extractNone}</p>}
        {extract && (
          <div class="slip-lookup">
            <Qr value={link} label={s.verifyQr} large />
            <div>
              <dl class="facts">
                <dt>{s.extractKind}</dt>
                <dd>{kindLabel(extract.kind)}</dd>
                <dt>{s.extractBook}</dt>
                <dd>{extract.registrationBook}</dd>
                <dt>{s.extractEntry}</dt>
                <dd data-testid="extract-entry">{extract.registrationEntry}</dd>
                <dt>{s.extractIssued}</dt>
                <dd>
                  <Time at={extract.issuedAt} />
                </dd>
                <dt>{s.extractKey}</dt>
                <dd class="mono">{extract.keyId}</dd>
              </dl>
              <div class="actions no-print">
                <a class="button" href={`#/verify?x=${link.split('?x=')[1] ?? ''}`} data-testid="verify-link">
                  {s.verify}
                </a>
                <a class="button secondary" href={download} download={`trich-luc-${code}.json`}>
                  {s.downloadExtract}
                </a>
              </div>
            </div>
          </div>
        )}
        {content && (
          <>
            <h3>{s.extractContent}</h3>
            <KeyValues data={content} testId="extract-content" />
          </>
        )}
      </section>

      <section class="card keep" aria-labelledby="card-h">
        <h2 id="card-h">{s.cardTitle}</h2>
        {!steps.length && <p>{s.noResults}</p>}
        {steps.map((st) => (
          <section key={st.kind} aria-labelledby={`res-${st.kind}`}>
            <h3 id={`res-${st.kind}`}>
              {label(t, 'step', st.kind)} ({label(t, 'agency', st.agency)})
            </h3>
            <KeyValues data={st.result ?? {}} testId={`result-${st.kind}`} />
          </section>
        ))}
      </section>
    </section>
  );
}
