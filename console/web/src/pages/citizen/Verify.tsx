// Verifying a certificate extract: from its QR link (#/verify?x=...), pasted
// JSON, or an uploaded file. No sign-in.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, client, violationsFor, type CertificateExtract, type VerifyResult } from '../../api/client';
import { fromBase64Url, parseExtract, payloadJson } from '../../components/extract';
import { TextField } from '../../components/Field';
import { KeyValues } from '../../components/KeyValues';
import { Time } from '../../components/Time';
import { fmt, useLang, useT } from '../../i18n';
import { useCitizenStrings } from './strings';

export function Verify({ x }: { x?: string | undefined }) {
  const t = useT();
  const s = useCitizenStrings();
  const { lang } = useLang();
  const [text, setText] = useState('');
  const [result, setResult] = useState<VerifyResult | undefined>(undefined);
  const [checked, setChecked] = useState<CertificateExtract | undefined>(undefined);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const verify = async (extract: CertificateExtract | undefined) => {
    setResult(undefined);
    setChecked(undefined);
    setError('');
    if (!extract) {
      setError(s.unreadable);
      return;
    }
    setBusy(true);
    try {
      const res = await call((signal) => client.POST('/v1/extracts/verify', { body: { extract }, signal }));
      setResult(res);
      setChecked(extract);
    } catch (e) {
      const ae = e instanceof ApiError ? e : new ApiError(0, String(e));
      if (ae.status === 400) {
        // A malformed extract is not valid either; say why.
        setResult({ authentic: false, reason: Object.values(violationsFor(lang, ae.toJSON())).join('; ') || ae.message });
        setChecked(extract);
      } else setError(ae.status === 0 ? t.networkError : ae.message);
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (!x) return;
    let extract: CertificateExtract | undefined;
    try {
      extract = parseExtract(fromBase64Url(x));
    } catch {
      extract = undefined;
    }
    void verify(extract);
  }, [x]);

  const onFile = async (e: Event) => {
    const file = (e.currentTarget as HTMLInputElement).files?.[0];
    if (!file) return;
    const content = await file.text();
    setText(content);
    void verify(parseExtract(content));
  };

  const content = checked ? payloadJson(checked) : undefined;
  const kindLabel = (k: string | undefined) => (k === 'birth' ? s.kind_birth : k === 'death' ? s.kind_death : (k ?? ''));

  return (
    <section class="citizen">
      <h1>{s.verifyTitle}</h1>
      <p>{s.verifyIntro}</p>
      {x && busy && <p aria-live="polite">{s.fromLink}</p>}
      <div aria-live="polite">
        {error && (
          <p class="alert alert-error" role="alert">
            {error}
          </p>
        )}
        {result && (
          <section class={`alert ${result.authentic ? 'alert-ok' : 'alert-error'}`} data-testid="verdict" data-authentic={String(!!result.authentic)}>
            <p class="verdict">{result.authentic ? s.valid : s.invalid}</p>
            {!result.authentic && result.reason && <p>{fmt(s.invalidReason, { reason: result.reason })}</p>}
            {result.authentic && (
              <dl class="facts">
                <dt>{s.signedBy}</dt>
                <dd data-testid="signed-by">{result.signedBy}</dd>
                <dt>{s.signedAt}</dt>
                <dd>
                  <Time at={result.signedAt} />
                </dd>
                <dt>{s.kind}</dt>
                <dd>{kindLabel(result.kind)}</dd>
                <dt>{s.regNumber}</dt>
                <dd>{result.registrationNumber}</dd>
                <dt>{s.keyId}</dt>
                <dd class="mono">{result.keyId}</dd>
              </dl>
            )}
          </section>
        )}
      </div>
      {result?.authentic && content && (
        <section class="card" aria-labelledby="content-h">
          <h2 id="content-h">{s.content}</h2>
          <KeyValues data={content} />
        </section>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void verify(parseExtract(text));
        }}
        noValidate
      >
        <TextField name="extract" label={s.paste} value={text} onInput={setText} multiline />
        <div class="field">
          <label for="extract-file">{s.upload}</label>
          <input id="extract-file" type="file" accept="application/json,.json,.txt" onChange={(e) => void onFile(e)} />
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {s.check}
          </button>
        </div>
      </form>
      <p>
        <a href="#/lookup">{s.toLookup}</a>
      </p>
    </section>
  );
}
