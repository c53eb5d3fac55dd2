// What the add/edit form shows under each field: the contract's own validation plus the checks
// that need the other resources (port and name already taken) and a warning for privileged ports.
import {
  RECOMMENDED_MIN_PORT,
  resourceInputSchema,
  type Resource,
  type ResourceFields,
  type ResourceKind,
} from './api.js';

/** The form as typed: every field a string or flag, as inputs hold them. */
export interface ResourceFormValues {
  name: string;
  hostname: string;
  edge: string;
  localPort: string;
  localHost: string;
  tags: string;
  autoConnect: boolean;
  kind: ResourceKind;
}

export interface ResourceFormCheck {
  errors: Partial<Record<keyof ResourceFormValues, string>>;
  warnings: Partial<Record<keyof ResourceFormValues, string>>;
  /** Present when there are no errors: ready to send. */
  value?: ResourceFields;
}

export function emptyFormValues(): ResourceFormValues {
  return {
    name: '',
    hostname: '',
    edge: '',
    localPort: '',
    localHost: '127.0.0.1',
    tags: '',
    autoConnect: false,
    kind: 'other',
  };
}

export function formValuesFrom(resource: Resource): ResourceFormValues {
  return {
    name: resource.name,
    hostname: resource.hostname,
    edge: resource.edge ?? '',
    localPort: String(resource.localPort),
    localHost: resource.localHost,
    tags: resource.tags.join(', '),
    autoConnect: resource.autoConnect,
    kind: resource.kind,
  };
}

export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/[,\s]+/)
        .map((tag) => tag.trim())
        .filter(Boolean),
    ),
  ];
}

export function checkResourceForm(
  values: ResourceFormValues,
  others: Resource[],
  editingId?: string,
): ResourceFormCheck {
  const errors: ResourceFormCheck['errors'] = {};
  const warnings: ResourceFormCheck['warnings'] = {};
  const port = /^\d+$/.test(values.localPort.trim()) ? Number(values.localPort.trim()) : Number.NaN;
  const candidate = {
    name: values.name,
    hostname: values.hostname,
    ...(values.edge.trim() ? { edge: values.edge } : {}),
    localPort: Number.isNaN(port) ? values.localPort : port,
    localHost: values.localHost || '127.0.0.1',
    tags: parseTags(values.tags),
    autoConnect: values.autoConnect,
    kind: values.kind,
  };
  const parsed = resourceInputSchema.safeParse(candidate);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = String(issue.path[0] ?? 'name') as keyof ResourceFormValues;
      errors[field] ??=
        field === 'localPort' && values.localPort.trim() === '' ? 'a local port is required' : issue.message;
    }
  }
  for (const other of others) {
    if (other.id === editingId) continue;
    if (!errors.name && other.name.toLowerCase() === values.name.trim().toLowerCase())
      errors.name = `"${other.name}" already exists`;
    if (!errors.localPort && other.localPort === port && other.localHost === candidate.localHost)
      errors.localPort = `port ${port} is already used by "${other.name}"`;
  }
  if (!errors.localPort && port < RECOMMENDED_MIN_PORT)
    warnings.localPort = `ports below ${RECOMMENDED_MIN_PORT} usually need administrator rights; ${RECOMMENDED_MIN_PORT}–65535 is recommended`;
  return Object.keys(errors).length === 0 && parsed.success
    ? { errors, warnings, value: parsed.data }
    : { errors, warnings };
}
