import { THEMES, type About, type Resource, type Settings, type Theme } from '../shared/contract/api.js';

interface Props {
  settings: Settings;
  resources: Resource[];
  desktop: boolean;
  about: About | undefined;
  onChange: (changes: Partial<Settings>) => void;
}

const THEME_LABELS: Record<Theme, string> = { light: 'Light', dark: 'Dark', system: 'Same as the system' };

export function SettingsView({ settings, resources, desktop, about, onChange }: Props) {
  return (
    <section className="view settings" aria-labelledby="view-title">
      <h1 id="view-title" className="view-title">
        Settings
      </h1>
      <fieldset>
        <legend>Theme</legend>
        {THEMES.map((theme) => (
          <label key={theme} className="radio">
            <input
              type="radio"
              name="theme"
              value={theme}
              checked={settings.theme === theme}
              onChange={() => onChange({ theme })}
            />
            {THEME_LABELS[theme]}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Start</legend>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={settings.startAtLogin}
            disabled={!desktop}
            aria-describedby={desktop ? undefined : 'start-at-login-hint'}
            onChange={(event) => onChange({ startAtLogin: event.target.checked })}
          />
          Start Airlock when I log in
        </label>
        {!desktop ? (
          <p id="start-at-login-hint" className="field-hint">
            Only the desktop app can start at login, so this is set there. This window works while the Airlock that
            opened it keeps running.
          </p>
        ) : null}
      </fieldset>
      <fieldset>
        <legend>Connections</legend>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={settings.resume}
            aria-describedby="resume-hint"
            onChange={(event) => onChange({ resume: event.target.checked })}
          />
          Keep connections through network cuts and edge restarts
        </label>
        <p id="resume-hint" className="field-hint">
          An open connection waits up to a minute for its tunnel to come back, then carries on with no byte lost.
          Applies to resources switched on after the change.
        </p>
      </fieldset>
      <fieldset>
        <legend>Connect automatically</legend>
        {resources.length === 0 ? <p className="field-hint">Add a resource first.</p> : null}
        {resources.map((resource) => (
          <label key={resource.id} className="checkbox">
            <input
              type="checkbox"
              checked={settings.autoConnect.includes(resource.id)}
              onChange={(event) =>
                onChange({
                  autoConnect: event.target.checked
                    ? [...settings.autoConnect, resource.id]
                    : settings.autoConnect.filter((id) => id !== resource.id),
                })
              }
            />
            {resource.name} <span className="muted">{resource.hostname}</span>
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Sign-in tokens</legend>
        <p className="field-hint" data-testid="token-store">
          {about?.tokenStore ? <>Kept in {about.tokenStore.detail}.</> : 'This build keeps no sign-in tokens.'}
          {about?.tokenStore?.kind === 'file'
            ? ' No keychain is available here, so only your file permissions protect them.'
            : ''}
        </p>
      </fieldset>
    </section>
  );
}
