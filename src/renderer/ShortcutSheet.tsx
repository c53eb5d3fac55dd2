import { Modal } from './Modal.js';

const SHORTCUTS: Array<[keys: string[], what: string]> = [
  [['/'], 'Search resources'],
  [['↑', '↓'], 'Move between resources'],
  [['Enter'], 'Connect or disconnect (on a switch)'],
  [['e'], 'Edit the resource you are on'],
  [['n'], 'Add a resource'],
  [['Esc'], 'Close a dialog or menu, clear the search'],
  [['?'], 'Show these shortcuts'],
];

/** `?` anywhere: what the keyboard does here. */
export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  return (
    <Modal labelledBy="shortcuts-title" onClose={onClose} className="sheet">
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <dl className="shortcuts">
        {SHORTCUTS.map(([keys, what]) => (
          <div key={what} className="shortcut">
            <dt>
              {keys.map((key) => (
                <kbd key={key}>{key}</kbd>
              ))}
            </dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <div className="dialog-actions">
        <button className="button primary" onClick={onClose} autoFocus>
          Close
        </button>
      </div>
    </Modal>
  );
}
