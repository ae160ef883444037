// The interview review page: seek the MP4 from the transcript, the latency table or the
// timeline picture, and highlight the line being played. Every time comes from the server
// in data attributes (seconds of the MP4), so nothing here knows the interview clock.

const video = document.getElementById("review-video");
const list = document.getElementById("review-lines");
const lines = list ? [...list.querySelectorAll("li[data-at]")] : [];
const starts = lines.map((line) => Number(line.dataset.at));

function seek(seconds) {
  if (!video || !Number.isFinite(seconds)) return;
  video.currentTime = Math.max(0, seconds);
  video.play().catch(() => {}); // a browser may refuse to play without a gesture; the seek stands
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-seek]");
  if (button) seek(Number(button.dataset.seek));
});

// The picture is drawn server-side; its figure says how seconds map to x in its viewBox.
const figure = document.getElementById("review-picture");
const svg = figure && figure.dataset.duration ? figure.querySelector("svg") : null;
if (svg) {
  const duration = Number(figure.dataset.duration);
  const left = Number(figure.dataset.left);
  const width = Number(figure.dataset.plotWidth);
  svg.addEventListener("click", (event) => {
    const point = new DOMPoint(event.clientX, event.clientY).matrixTransform(
      svg.getScreenCTM().inverse(),
    );
    const fraction = (point.x - left) / width;
    if (fraction >= 0 && fraction <= 1) seek(fraction * duration);
  });
}

// The current line: the last one that started at or before the playing time.
let current = null;
function highlight() {
  const time = video.currentTime + 0.05;
  let index = -1;
  for (let i = 0; i < starts.length && starts[i] <= time; i += 1) index = i;
  const line = index >= 0 ? lines[index] : null;
  if (line === current) return;
  if (current) {
    current.classList.remove("is-current");
    current.querySelector("button").removeAttribute("aria-current");
  }
  current = line;
  if (!line) return;
  line.classList.add("is-current");
  line.querySelector("button").setAttribute("aria-current", "true");
  // Keep the line visible inside the list without scrolling the whole page.
  const top = line.offsetTop; // the list is positioned, so this is inside it
  if (top < list.scrollTop || top + line.offsetHeight > list.scrollTop + list.clientHeight) {
    list.scrollTop = Math.max(0, top - list.clientHeight / 3);
  }
}

if (video && lines.length) {
  for (const name of ["timeupdate", "seeked", "loadedmetadata"]) {
    video.addEventListener(name, highlight);
  }
}
