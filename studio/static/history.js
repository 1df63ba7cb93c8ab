// The upload's progress bar: htmx reports the request body's upload progress.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("history-upload");
  const bar = document.getElementById("upload-progress");
  if (!form || !bar) return;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) { bar.hidden = false; bar.value = (e.loaded / e.total) * 100; }
    });
    request.addEventListener("load", () => { window.location.href = request.responseURL; });
    request.send(new FormData(form));
  });
});
