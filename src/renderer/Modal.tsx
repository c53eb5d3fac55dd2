// A modal dialog on the platform's own <dialog>: showModal() makes the rest of the page inert (focus
// stays inside, screen readers see only the dialog) and Esc cancels. Focus goes back to whatever had
// it before, as WAI-ARIA APG "Dialog (Modal)" asks.
import { useEffect, useRef, useState, type ReactNode } from 'react';

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
    >
      {children}
    </dialog>
  );
}
