/**
 * A service that cannot start or load a model for a reason the operator can fix (an unseeded store,
 * a model trained on other data, a busy port): a user error, printed without a stack trace.
 */
import { UserError } from "../errors.js";

export class ServeError extends UserError {
  override name = "ServeError";
}
