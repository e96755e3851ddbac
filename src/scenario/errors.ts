/** Input errors: each names file, line, column and field path. The CLI prints them and exits 2. */
export { InputError, type InputProblem } from '../errors.js';
