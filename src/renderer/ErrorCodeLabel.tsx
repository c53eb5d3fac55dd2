import { describeErrorCode } from '../shared/contract/error-catalogue.js';

/** An error's stable code beside its message; hovering says what it means and what to do (docs/troubleshooting.md "Error codes"). */
export function ErrorCodeLabel({ code }: { code: string }) {
  const entry = describeErrorCode(code);
  return (
    <code
      className="error-code"
      data-testid="error-code"
      title={entry ? `${entry.meaning} ${entry.action}` : undefined}
    >
      {code}
    </code>
  );
}
