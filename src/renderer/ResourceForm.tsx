import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { ApiError, RESOURCE_KINDS, type Resource, type ResourceFields } from '../shared/contract/api.js';
import {
  checkResourceForm,
  emptyFormValues,
  formValuesFrom,
  type ResourceFormValues,
} from '../shared/contract/resource-form.js';
import { KIND_NAMES } from './icons.js';
import { Modal } from './Modal.js';

interface Props {
  editing?: Resource;
  resources: Resource[];
  onSubmit: (value: ResourceFields) => Promise<void>;
  onCancel: () => void;
}

export function ResourceForm({ editing, resources, onSubmit, onCancel }: Props) {
  const [values, setValues] = useState<ResourceFormValues>(editing ? formValuesFrom(editing) : emptyFormValues());
  const [touched, setTouched] = useState<Partial<Record<keyof ResourceFormValues, boolean>>>({});
  const [submitted, setSubmitted] = useState(false);
  const [serverErrors, setServerErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState('');
  const [busy, setBusy] = useState(false);
  const firstField = useRef<HTMLInputElement>(null);

  useEffect(() => firstField.current?.focus(), []);

  const check = checkResourceForm(values, resources, editing?.id);
  const errorFor = (field: keyof ResourceFormValues) =>
    serverErrors[field] ?? (touched[field] || submitted ? check.errors[field] : undefined);

  const set = <K extends keyof ResourceFormValues>(field: K, value: ResourceFormValues[K]) => {
    setValues((previous) => ({ ...previous, [field]: value }));
    setServerErrors(({ [field]: _cleared, ...rest }) => rest);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    setFormError('');
    if (!check.value) return;
    setBusy(true);
    try {
      await onSubmit(check.value);
    } catch (error) {
      if (error instanceof ApiError && Object.keys(error.fields).length > 0) setServerErrors(error.fields);
      else setFormError(error instanceof Error ? error.message : String(error));
    } finally {
      setBusy(false);
    }
  };

  const field = (name: keyof ResourceFormValues, label: string, input: ReactNode, hint?: string) => {
    const error = errorFor(name);
    const warning = !error ? check.warnings[name] : undefined;
    return (
      <div className={`field${error ? ' invalid' : ''}`}>
        <label htmlFor={`field-${name}`}>{label}</label>
        {input}
        {error ? (
          <p className="field-error" id={`error-${name}`} role="alert">
            {error}
          </p>
        ) : warning ? (
          <p className="field-warning">{warning}</p>
        ) : hint ? (
          <p className="field-hint">{hint}</p>
        ) : null}
      </div>
    );
  };

  const inputProps = (name: Exclude<keyof ResourceFormValues, 'autoConnect' | 'kind'>) => ({
    id: `field-${name}`,
    name,
    value: values[name],
    onChange: (event: { target: { value: string } }) => set(name, event.target.value),
    onBlur: () => setTouched((previous) => ({ ...previous, [name]: true })),
    'aria-invalid': Boolean(errorFor(name)),
    'aria-describedby': errorFor(name) ? `error-${name}` : undefined,
    autoComplete: 'off',
    spellCheck: false,
  });

  return (
    <Modal labelledBy="form-title" onClose={onCancel}>
      <form className="dialog" onSubmit={submit} noValidate aria-labelledby="form-title">
        <h2 id="form-title">{editing ? `Edit ${editing.name}` : 'Add a resource'}</h2>
        <p className="dialog-intro">
          A resource is one private service your organisation publishes through Airlock. Connecting opens it on a local
          port of this computer.
        </p>
        {field(
          'name',
          'Name',
          <input {...inputProps('name')} ref={firstField} placeholder="prod-db" />,
          'Shown in the list, the tray and airlock://connect/NAME links.',
        )}
        {field(
          'hostname',
          'Hostname',
          <input {...inputProps('hostname')} placeholder="db.example.com" />,
          'The application hostname your administrator gave you.',
        )}
        <div className="field-row">
          {field(
            'localPort',
            'Local port',
            <input {...inputProps('localPort')} inputMode="numeric" placeholder="5433" />,
            '1024–65535 recommended.',
          )}
          {field('localHost', 'Local address', <input {...inputProps('localHost')} />)}
        </div>
        {field(
          'kind',
          'Service type',
          <select
            id="field-kind"
            value={values.kind}
            onChange={(event) => set('kind', event.target.value as ResourceFormValues['kind'])}
          >
            {RESOURCE_KINDS.map((kind) => (
              <option key={kind} value={kind}>
                {KIND_NAMES[kind]}
              </option>
            ))}
          </select>,
          'Used for “Copy command”.',
        )}
        {field(
          'edge',
          'Edge URL (optional)',
          <input {...inputProps('edge')} placeholder="https://edge.example.com" />,
          'Leave empty to reach the hostname itself on port 443.',
        )}
        {field(
          'tags',
          'Tags',
          <input {...inputProps('tags')} placeholder="prod, databases" />,
          'Separated by commas or spaces.',
        )}
        <label className="checkbox">
          <input
            type="checkbox"
            checked={values.autoConnect}
            onChange={(event) => set('autoConnect', event.target.checked)}
          />
          Connect automatically when Airlock starts
        </label>
        {formError ? (
          <p className="form-error" role="alert">
            {formError}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" className="button primary" disabled={busy}>
            {editing ? 'Save changes' : 'Add resource'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
