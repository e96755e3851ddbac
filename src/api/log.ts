/** Where the API's progress and warnings go when the caller passes no logger: a line on stderr. */
export const stderrLine = (s: string): void => {
  process.stderr.write(s + '\n');
};
