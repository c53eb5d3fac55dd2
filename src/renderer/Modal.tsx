// A modal dialog on the platform's own <dialog>: showModal() makes the rest of the page inert (focus
// stays inside, screen readers see only the dialog) and Esc cancels. Focus goes back to whatever had
// it before, as WAI-ARIA APG "Dialog (Modal)" asks. Tab wraps inside it: a modal <dialog> alone lets
// Tab leave for the browser's own controls after its last element.
import { useEffect, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab on the dialog's own controls, wrapping at either end. */
function trapTab(event: KeyboardEvent<HTMLDialogElement>): void {
  if (event.key !== 'Tab') return;
  const focusable = [...event.currentTarget.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (element) => element.offsetParent !== null,
  );
  const first = focusable[0];
  const last = focusable.at(-1);
  if (!first || !last) return;
  const active = document.activeElement;
  if (event.shiftKey && (active === first || !event.currentTarget.contains(active))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (active === last || !event.currentTarget.contains(active))) {
    event.preventDefault();
    first.focus();
  }
}

interface Props {
  /** id of the dialog's heading. */
  labelledBy: string;
  onClose: () => void;
  className?: string;
  children: ReactNode;
}

export function Modal({ labelledBy, onClose, className, children }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  // Read while rendering, before a child's effect moves focus into the dialog.
  const [opener] = useState(() => (document.activeElement instanceof HTMLElement ? document.activeElement : undefined));
  const closeRef = useRef(onClose);
  closeRef.current = onClose;

  useEffect(() => {
    const element = dialog.current!;
    if (!element.open) element.showModal();
    const cancel = (event: Event) => {
      event.preventDefault(); // React owns whether it is shown
      closeRef.current();
    };
    element.addEventListener('cancel', cancel);
    return () => {
      element.removeEventListener('cancel', cancel);
      if (element.open) element.close();
      if (opener?.isConnected) opener.focus();
    };
  }, [opener]);

  return (
    <dialog
      ref={dialog}
      className={`modal${className ? ` ${className}` : ''}`}
      aria-labelledby={labelledBy}
      aria-modal="true"
      // A click on the backdrop lands on the <dialog> itself: it closes, as a click outside would.
      onMouseDown={(event) => event.target === event.currentTarget && onClose()}
      onKeyDown={trapTab}
    >
      {children}
    </dialog>
  );
}
