import { plainAdvice } from '../shared/contract/error-catalogue.js';

/** An error's stable code beside its message; hovering says what it means and what to do, in the window's plain words (docs/troubleshooting.md "Error codes" has the rest). */
export function ErrorCodeLabel({ code }: { code: string }) {
  return (
    <code className="error-code" data-testid="error-code" title={plainAdvice(code)}>
      {code}
    </code>
  );
}
