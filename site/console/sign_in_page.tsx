/** @jsxImportSource hono/jsx */
/**
 * Signing in: a person pastes a viewer or admin token (`meter token create`).
 * A token that is not accepted gets a plain message saying why, never a
 * stack trace.
 *
 * @module
 */
export function SignInPage({ next, problem }: { next: string; problem?: string }) {
  return (
    <>
      {problem && <p class="error" role="alert" id="sign-in-problem">{problem}</p>}
      <form class="stack" method="post" action="/sign-in">
        <input type="hidden" name="next" value={next} />
        <label for="token">
          Token <small>a viewer or admin token, from `meter token create`</small>
          <input id="token" name="token" type="password" autocomplete="off" required autofocus />
        </label>
        <div class="actions">
          <button type="submit">Sign in</button>
        </div>
      </form>
    </>
  );
}
