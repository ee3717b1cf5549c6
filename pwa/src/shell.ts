// The login form index.html carries, typed into before the app's script
// arrived on a first visit (see the comment there). The app takes it over:
// what was typed and where the caret was go to the app's own form.

export interface ShellLogin {
  username: string;
  password: string;
  /** The field that had the focus, so typing goes on where it was. */
  focus: 'username' | 'password' | null;
}

/** Reads the first response's login form, if the page has one; null when the service worker's shell (without it) was served. */
export function takeShellLogin(): ShellLogin | null {
  const form = document.querySelector('[data-shell-login]');
  if (!form) return null;
  const user = form.querySelector<HTMLInputElement>('input[name=username]');
  const pass = form.querySelector<HTMLInputElement>('input[name=password]');
  const active = document.activeElement;
  return {
    username: user?.value ?? '',
    password: pass?.value ?? '',
    focus: active && active === user ? 'username' : active && active === pass ? 'password' : null,
  };
}
