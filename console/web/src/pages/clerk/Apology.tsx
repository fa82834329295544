// #/clerk/dossiers/:code/apology/:step: a late agency's apology and new
// appointment slip, printed on A4 for the applicant (print.css).
import { useEffect, useState } from 'preact/hooks';
import type { Dossier } from '../../api/client';
import { ApologyLetter } from '../../components/ApologyLetter';
import { fmt, useT } from '../../i18n';
import { getDossier, NotLoaded, onReadError } from './DossierPage';
import { useClerkStrings } from './strings';

export function Apology({ code, step }: { code: string; step: string }) {
  const t = useT();
  const s = useClerkStrings();
  const [dossier, setDossier] = useState<Dossier | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState('');
  useEffect(() => {
    getDossier(code, { purpose: s.apologyPurpose })
      .then((d) => (d ? setDossier(d) : setMissing(true)))
      .catch(onReadError(setMissing, setError));
  }, [code]);
  if (missing || !dossier) return <NotLoaded missing={missing} error={error} />;
  const st = (dossier.steps ?? []).find((x) => x.kind === step);
  const applicant = dossier.birth?.requester?.fullName ?? dossier.death?.declarant?.fullName;
  return (
    <section>
      <h1 class="no-print">{s.apologyTitle}</h1>
      <div class="actions no-print">
        <button type="button" onClick={() => window.print()}>
          {t.print}
        </button>
        <a class="button secondary" href={`#/clerk/dossiers/${encodeURIComponent(code)}`}>
          {fmt(s.dossierTitle, { code })}
        </a>
      </div>
      {st?.apology?.issuedAt ? (
        <ApologyLetter step={st} code={code} receivedAt={dossier.receivedAt} applicant={applicant} />
      ) : (
        <p class="alert alert-info">{s.apologyNone}</p>
      )}
    </section>
  );
}
