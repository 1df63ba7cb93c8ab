// The upload's progress bar: htmx reports the request body's upload progress.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("history-upload");
  const bar = document.getElementById("upload-progress");
  if (!form || !bar) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    // The token travels as a header, so the server reads it without parsing the upload.
    request.setRequestHeader("X-CSRF-Token", form.elements.csrf_token.value);
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) { bar.hidden = false; bar.value = (e.loaded / e.total) * 100; }
    });
    const error = document.getElementById("upload-error");
    const refuse = (message) => {
      bar.hidden = true;
      error.textContent = message;
      error.hidden = false;
      error.focus();
    };
    request.addEventListener("load", () => {
      if (request.status < 400) { window.location.href = request.responseURL; return; }
      // The studio's own words: the refused page carries them in the same element.
      const page = new DOMParser().parseFromString(request.responseText, "text/html");
      const said = page.getElementById("upload-error") || page.querySelector("main p");
      refuse((said && said.textContent.trim()) || `The upload was refused (${request.status}).`);
    });
    request.addEventListener("error", () => {
      refuse("The upload did not reach the studio: check the connection, then try again.");
    });
    error.hidden = true;
    request.send(new FormData(form));
  });
});
