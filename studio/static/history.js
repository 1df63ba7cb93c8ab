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
    request.addEventListener("load", () => { window.location.href = request.responseURL; });
    request.send(new FormData(form));
  });
});
