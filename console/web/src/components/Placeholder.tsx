import { useT } from '../i18n';
import type { Dict } from '../i18n/vi';

export function Placeholder({ title }: { title: keyof Dict }) {
  const t = useT();
  return (
    <section>
      <h1>{t[title]}</h1>
      <p>{t.comingSoon}</p>
    </section>
  );
}
