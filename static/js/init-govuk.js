// Start GOV.UK Frontend on every page (loaded by templates/base.html as a module).
//
// The body classes are set here rather than in an inline <script> (as GOV.UK's page
// template does) so that a strict Content Security Policy needs no nonce. Only browsers
// that run modules get them, which is what "govuk-frontend-supported" means.
import { initAll } from "../vendor/govuk-frontend/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// Content swapped in by htmx gets its components started too (the page itself was done above).
document.addEventListener("htmx:load", (event) => {
  if (event.target !== document.body) {
    initAll(event.target);
  }
});

// A printed page shows everything: sections folded into GOV.UK details open for printing
// (a subject access page printed for a learner must not drop the folded records).
window.addEventListener("beforeprint", () => {
  document.querySelectorAll("details:not([open])").forEach((details) => {
    details.setAttribute("open", "");
    details.dataset.openedForPrint = "true";
  });
});
window.addEventListener("afterprint", () => {
  document.querySelectorAll("details[data-opened-for-print]").forEach((details) => {
    details.removeAttribute("open");
    delete details.dataset.openedForPrint;
  });
});
