// Modules scripts/build-web.ts serves as text: 'rnnscope-text:<package>/<file>' is that file of
// node_modules as a string (web/app-bundles.ts), 'rnnscope-text:app-worker' the worker's bundle
// (web/app.ts), 'rnnscope-text:pool-worker' the gradient pool worker's bundle (web/app-worker.ts).
declare module 'rnnscope-text:*' {
  const text: string;
  export default text;
}
