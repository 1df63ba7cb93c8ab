// Small behaviours that htmx does not cover. No inline script anywhere: CSP forbids it.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) {
    const box = document.createElement("p");
    box.className = "alert alert-error";
    box.setAttribute("role", "alert");
    box.textContent = "The studio could not answer (error " + status + "). Your work is still on this page; try again.";
    document.getElementById("main").prepend(box);
  }
});
