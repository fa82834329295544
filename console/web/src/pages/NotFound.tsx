import { useT } from '../i18n';

export function NotFound() {
  const t = useT();
  return (
    <section>
      <h1>{t.notFoundTitle}</h1>
      <p>{t.notFoundBody}</p>
      <p>
        <a href="#/">{t.home}</a>
      </p>
    </section>
  );
}

export function Forbidden() {
  const t = useT();
  return (
    <section>
      <h1>{t.forbiddenTitle}</h1>
      <p>{t.forbiddenBody}</p>
      <p>
        <a href="#/">{t.home}</a>
      </p>
    </section>
  );
}
