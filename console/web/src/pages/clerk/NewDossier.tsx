import { useClerkStrings } from './strings';

export function NewDossier() {
  const s = useClerkStrings();
  return (
    <section>
      <h1>{s.newTitle}</h1>
      <div class="cards">
        <section class="card" aria-labelledby="new-birth">
          <h2 id="new-birth">{s.newBirth}</h2>
          <p>{s.newBirthBody}</p>
          <a class="button" href="#/clerk/new/birth">
            {s.startBirth}
          </a>
        </section>
        <section class="card" aria-labelledby="new-death">
          <h2 id="new-death">{s.newDeath}</h2>
          <p>{s.newDeathBody}</p>
          <a class="button" href="#/clerk/new/death">
            {s.startDeath}
          </a>
        </section>
      </div>
    </section>
  );
}
