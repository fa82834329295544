// Form fields that show the API's field violations beside themselves.
// A field's `name` is its proto field path ("form.child.full_name"), so an
// ApiError's fieldViolations map straight onto fields; fieldId(name) is its id.
import type { ComponentChildren } from 'preact';

export function fieldId(name: string): string {
  return `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

interface Common {
  name: string;
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  required?: boolean;
}

function describedBy(name: string, hint?: string, error?: string): string | undefined {
  const ids = [hint ? `${fieldId(name)}-hint` : '', error ? `${fieldId(name)}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function Wrap({ name, label, hint, error, children, required }: Common & { children: ComponentChildren }) {
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      <label for={fieldId(name)}>
        {label}
        {required ? <span aria-hidden="true"> *</span> : null}
      </label>
      {hint && (
        <p class="hint" id={`${fieldId(name)}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${fieldId(name)}-error`}>
          {error}
        </p>
      )}
      {children}
    </div>
  );
}

export function TextField(
  props: Common & {
    value: string;
    onInput: (v: string) => void;
    type?: 'text' | 'tel' | 'email' | 'date' | 'datetime-local' | 'number';
    list?: string;
    autoComplete?: string;
    inputMode?: 'numeric' | 'tel' | 'email' | 'text' | 'decimal';
    multiline?: boolean;
  },
) {
  const { name, value, onInput, type = 'text', hint, error, required, list, autoComplete, inputMode, multiline } = props;
  const common = {
    id: fieldId(name),
    name,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy(name, hint, error),
    'aria-required': required ? ('true' as const) : undefined,
  };
  return (
    <Wrap {...props}>
      {multiline ? (
        <textarea {...common} value={value} onInput={(e) => onInput(e.currentTarget.value)} />
      ) : (
        <input
          {...common}
          type={type}
          value={value}
          list={list}
          autoComplete={autoComplete ?? 'off'}
          inputMode={inputMode}
          onInput={(e) => onInput(e.currentTarget.value)}
        />
      )}
    </Wrap>
  );
}

export function SelectField(
  props: Common & { value: string; onChange: (v: string) => void; options: { value: string; label: string }[]; placeholder?: string },
) {
  const { name, value, onChange, options, hint, error, required, placeholder } = props;
  return (
    <Wrap {...props}>
      <select
        id={fieldId(name)}
        name={name}
        value={value}
        aria-invalid={error ? 'true' : undefined}
        aria-describedby={describedBy(name, hint, error)}
        aria-required={required ? 'true' : undefined}
        onChange={(e) => onChange(e.currentTarget.value)}
      >
        {placeholder !== undefined && <option value="">{placeholder}</option>}
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </Wrap>
  );
}

export function CheckField(props: Common & { checked: boolean; onChange: (v: boolean) => void }) {
  const { name, label, checked, onChange, hint, error } = props;
  return (
    <div class={`field${error ? ' has-error' : ''}`}>
      {error && (
        <p class="field-error" id={`${fieldId(name)}-error`}>
          {error}
        </p>
      )}
      <div class="check">
        <input
          type="checkbox"
          id={fieldId(name)}
          name={name}
          checked={checked}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy(name, hint, error)}
          onChange={(e) => onChange(e.currentTarget.checked)}
        />
        <label for={fieldId(name)}>{label}</label>
      </div>
      {hint && (
        <p class="hint" id={`${fieldId(name)}-hint`}>
          {hint}
        </p>
      )}
    </div>
  );
}

/**
 * ErrorSummary lists every violation at the top of a form, each linking to its
 * field (or, for a field not on the form, just its text). Focus it after a refusal.
 */
export function ErrorSummary({
  title,
  message,
  errors,
  labelFor,
  summaryRef,
}: {
  title: string;
  message?: string | undefined;
  errors: Record<string, string>;
  labelFor: (name: string) => string | undefined;
  summaryRef?: { current: HTMLDivElement | null };
}) {
  const entries = Object.entries(errors);
  if (!entries.length && !message) return null;
  return (
    <div class="alert alert-error error-summary" role="alert" tabIndex={-1} ref={summaryRef} aria-labelledby="error-summary-title">
      <h2 id="error-summary-title">{title}</h2>
      {message && !entries.length && <p>{message}</p>}
      <ul>
        {entries.map(([name, text]) => {
          const lbl = labelFor(name);
          const target = document.getElementById(fieldId(name)) ? fieldId(name) : undefined;
          return (
            <li key={name}>
              {target ? (
                <a
                  href={`#${target}`}
                  onClick={(e) => {
                    e.preventDefault();
                    const el = document.getElementById(target);
                    el?.focus();
                    el?.scrollIntoView({ block: 'center' });
                  }}
                >
                  {lbl ?? name}: {text}
                </a>
              ) : (
                <span>
                  {lbl ?? name}: {text}
                </span>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
