<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>stipple::ui::BrushTool</name>
    <message>
        <source>Erase mask</source>
        <translation>Maske radieren</translation>
    </message>
    <message>
        <source>Paint mask</source>
        <translation>Maske malen</translation>
    </message>
</context>
<context>
    <name>ErrorText</name>
    <message>
        <source>No error.</source>
        <translation>Kein Fehler.</translation>
    </message>
    <message>
        <source>The file could not be found or opened.</source>
        <translation>Die Datei wurde nicht gefunden oder konnte nicht geöffnet werden.</translation>
    </message>
    <message>
        <source>Reading or writing the file failed.</source>
        <translation>Das Lesen oder Schreiben der Datei ist fehlgeschlagen.</translation>
    </message>
    <message>
        <source>The file is damaged or not in the expected format.</source>
        <translation>Die Datei ist beschädigt oder nicht im erwarteten Format.</translation>
    </message>
    <message>
        <source>This checkpoint uses the unsafe pickle format. Convert it to .safetensors first.</source>
        <translation>Dieser Checkpoint verwendet das unsichere Pickle-Format. Wandeln Sie ihn zuerst in .safetensors um.</translation>
    </message>
    <message>
        <source>This kind of model is not supported yet.</source>
        <translation>Diese Art von Modell wird noch nicht unterstützt.</translation>
    </message>
    <message>
        <source>The weights do not look like a supported Stable Diffusion model.</source>
        <translation>Die Gewichte sehen nicht nach einem unterstützten Stable-Diffusion-Modell aus.</translation>
    </message>
    <message>
        <source>The model is incomplete: some weights are missing.</source>
        <translation>Das Modell ist unvollständig: Einige Gewichte fehlen.</translation>
    </message>
    <message>
        <source>The model contains weights that do not belong to it.</source>
        <translation>Das Modell enthält Gewichte, die nicht dazugehören.</translation>
    </message>
    <message>
        <source>Some weights have the wrong size for this model.</source>
        <translation>Einige Gewichte haben die falsche Größe für dieses Modell.</translation>
    </message>
    <message>
        <source>The generation settings are not valid.</source>
        <translation>Die Einstellungen für die Erzeugung sind ungültig.</translation>
    </message>
    <message>
        <source>The image could not be read.</source>
        <translation>Das Bild konnte nicht gelesen werden.</translation>
    </message>
    <message>
        <source>Not enough memory. Try a smaller size or batch.</source>
        <translation>Nicht genug Speicher. Versuchen Sie eine kleinere Größe oder weniger Bilder pro Stapel.</translation>
    </message>
    <message>
        <source>The CLIP vocabulary was not found. Choose its file in the settings.</source>
        <translation>Das CLIP-Vokabular wurde nicht gefunden. Wählen Sie die Datei in den Einstellungen.</translation>
    </message>
    <message>
        <source>An internal error occurred.</source>
        <translation>Ein interner Fehler ist aufgetreten.</translation>
    </message>
    <message>
        <source>An unknown error occurred.</source>
        <translation>Ein unbekannter Fehler ist aufgetreten.</translation>
    </message>
</context>
<context>
    <name>stipple::ui::GalleryModel</name>
    <message>
        <source>No such image.</source>
        <translation>Dieses Bild gibt es nicht.</translation>
    </message>
</context>
<context>
    <name>GallerySaver</name>
    <message>
        <source>Could not create the folder %1.</source>
        <translation>Der Ordner %1 konnte nicht angelegt werden.</translation>
    </message>
    <message>
        <source>Could not write %1: %2</source>
        <translation>%1 konnte nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>There is no image to save.</source>
        <translation>Es gibt kein Bild zum Speichern.</translation>
    </message>
    <message>
        <source>%1 does not exist.</source>
        <translation>%1 existiert nicht.</translation>
    </message>
    <message>
        <source>Could not move %1 to the trash.</source>
        <translation>%1 konnte nicht in den Papierkorb verschoben werden.</translation>
    </message>
</context>
<context>
    <name>stipple::ui::GalleryView</name>
    <message>
        <source>Search prompts…</source>
        <translation>Prompts durchsuchen…</translation>
    </message>
    <message>
        <source>Seed</source>
        <translation>Seed</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>Modell</translation>
    </message>
    <message>
        <source>From</source>
        <translation>Von</translation>
    </message>
    <message>
        <source>to</source>
        <translation>bis</translation>
    </message>
    <message numerus="yes">
        <source>%n image(s)</source>
        <translation>
            <numerusform>%n Bild</numerusform>
            <numerusform>%n Bilder</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n image(s) match</source>
        <translation>
            <numerusform>%n Bild passt</numerusform>
            <numerusform>%n Bilder passen</numerusform>
        </translation>
    </message>
    <message>
        <source>Could not read %1: %2</source>
        <translation>%1 konnte nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Copied %1 to the clipboard.</source>
        <translation>%1 wurde in die Zwischenablage kopiert.</translation>
    </message>
    <message>
        <source>No file manager could open %1.</source>
        <translation>Kein Dateimanager konnte %1 öffnen.</translation>
    </message>
    <message>
        <source>Move to trash</source>
        <translation>In den Papierkorb verschieben</translation>
    </message>
    <message>
        <source>Move “%1” to the trash?</source>
        <translation>„%1“ in den Papierkorb verschieben?</translation>
    </message>
    <message>
        <source>Moved %1 to the trash.</source>
        <translation>%1 wurde in den Papierkorb verschoben.</translation>
    </message>
    <message>
        <source>View</source>
        <translation>Ansehen</translation>
    </message>
    <message>
        <source>Send to image to image</source>
        <translation>An Bild zu Bild senden</translation>
    </message>
    <message>
        <source>Send to inpaint</source>
        <translation>An Inpaint senden</translation>
    </message>
    <message>
        <source>Reuse all parameters</source>
        <translation>Alle Parameter übernehmen</translation>
    </message>
    <message>
        <source>Reuse prompt only</source>
        <translation>Nur den Prompt übernehmen</translation>
    </message>
    <message>
        <source>Copy image</source>
        <translation>Bild kopieren</translation>
    </message>
    <message>
        <source>Show in file manager</source>
        <translation>Im Dateimanager zeigen</translation>
    </message>
    <message>
        <source>Move to trash…</source>
        <translation>In den Papierkorb verschieben…</translation>
    </message>
</context>
<context>
    <name>stipple::ui::GenerationWorker</name>
    <message>
        <source>No model is loaded. Open a model first.</source>
        <translation>Es ist kein Modell geladen. Öffnen Sie zuerst ein Modell.</translation>
    </message>
</context>
<context>
    <name>ImageDrop</name>
    <message>
        <source>“%1” is not a file that can be opened.</source>
        <translation>„%1“ ist keine Datei, die geöffnet werden kann.</translation>
    </message>
    <message>
        <source>“%1” is not an image Stipple can read (PNG, JPEG, WebP, BMP…).</source>
        <translation>„%1“ ist kein Bild, das Stipple lesen kann (PNG, JPEG, WebP, BMP…).</translation>
    </message>
    <message>
        <source>“%1” could not be read: %2</source>
        <translation>„%1“ konnte nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>Nothing to paste.</source>
        <translation>Nichts zum Einfügen.</translation>
    </message>
    <message>
        <source>The dropped image data could not be read.</source>
        <translation>Die abgelegten Bilddaten konnten nicht gelesen werden.</translation>
    </message>
    <message>
        <source>This is not an image. Drop or paste a PNG, JPEG or WebP picture.</source>
        <translation>Das ist kein Bild. Legen Sie ein PNG-, JPEG- oder WebP-Bild ab oder fügen Sie eines ein.</translation>
    </message>
</context>
<context>
    <name>ImageMetadata</name>
    <message>
        <source>The file does not exist.</source>
        <translation>Die Datei existiert nicht.</translation>
    </message>
    <message>
        <source>The file is not a readable image.</source>
        <translation>Die Datei ist kein lesbares Bild.</translation>
    </message>
    <message>
        <source>Only PNG images carry generation parameters that Stipple can read.</source>
        <translation>Nur PNG-Bilder tragen Erzeugungsparameter, die Stipple lesen kann.</translation>
    </message>
    <message>
        <source>This image has no generation parameters.</source>
        <translation>Dieses Bild enthält keine Erzeugungsparameter.</translation>
    </message>
</context>
<context>
    <name>stipple::ui::JobQueue</name>
    <message>
        <source>Could not save the job queue to %1.</source>
        <translation>Die Auftragsliste konnte nicht in %1 gespeichert werden.</translation>
    </message>
    <message>
        <source>An input image of this job is missing.</source>
        <translation>Ein Eingabebild dieses Auftrags fehlt.</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Wartet</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>Läuft</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
</context>
<context>
    <name>stipple::ui::MainWindow</name>
    <message>
        <source>Stipple</source>
        <translation>Stipple</translation>
    </message>
    <message>
        <source>&lt;b&gt;Model&lt;/b&gt;</source>
        <translation>&lt;b&gt;Modell&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Text to image</source>
        <translation>Text zu Bild</translation>
    </message>
    <message>
        <source>Image to image</source>
        <translation>Bild zu Bild</translation>
    </message>
    <message>
        <source>Inpaint</source>
        <translation>Inpaint</translation>
    </message>
    <message>
        <source>&lt;b&gt;Prompt&lt;/b&gt;</source>
        <translation>&lt;b&gt;Prompt&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Describe the picture… (word:1.2) stresses, [word] softens, BREAK starts a new chunk. Ctrl+↑/↓ changes the weight.</source>
        <translation>Beschreiben Sie das Bild… (Wort:1.2) betont, [Wort] schwächt ab, BREAK beginnt einen neuen Abschnitt. Strg+↑/↓ ändert die Gewichtung.</translation>
    </message>
    <message>
        <source>&lt;b&gt;Negative prompt&lt;/b&gt;</source>
        <translation>&lt;b&gt;Negativer Prompt&lt;/b&gt;</translation>
    </message>
    <message>
        <source>What to avoid…</source>
        <translation>Was vermieden werden soll…</translation>
    </message>
    <message>
        <source>Generate</source>
        <translation>Erzeugen</translation>
    </message>
    <message>
        <source>Generate (Ctrl+Enter)</source>
        <translation>Erzeugen (Strg+Eingabe)</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Cancel (Esc)</source>
        <translation>Abbrechen (Esc)</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>Gallery</source>
        <translation>Galerie</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>Open &amp;model file…</source>
        <translation>&amp;Modelldatei öffnen…</translation>
    </message>
    <message>
        <source>Open checkpoint</source>
        <translation>Checkpoint öffnen</translation>
    </message>
    <message>
        <source>Safetensors checkpoints (*.safetensors)</source>
        <translation>Safetensors-Checkpoints (*.safetensors)</translation>
    </message>
    <message>
        <source>Open &amp;diffusers folder…</source>
        <translation>&amp;Diffusers-Ordner öffnen…</translation>
    </message>
    <message>
        <source>Open diffusers model folder</source>
        <translation>Diffusers-Modellordner öffnen</translation>
    </message>
    <message>
        <source>Open &amp;init image…</source>
        <translation>&amp;Ausgangsbild öffnen…</translation>
    </message>
    <message>
        <source>PNG &amp;Info…</source>
        <translation>PNG-&amp;Info…</translation>
    </message>
    <message>
        <source>CLIP &amp;vocabulary…</source>
        <translation>CLIP-&amp;Vokabular…</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Paste image</source>
        <translation>Bild &amp;einfügen</translation>
    </message>
    <message>
        <source>Ctrl+Shift+V</source>
        <translation>Ctrl+Shift+V</translation>
    </message>
    <message>
        <source>Use result as &amp;input</source>
        <translation>Ergebnis als &amp;Ausgangsbild verwenden</translation>
    </message>
    <message>
        <source>There is no result yet.</source>
        <translation>Es gibt noch kein Ergebnis.</translation>
    </message>
    <message>
        <source>last result</source>
        <translation>letztes Ergebnis</translation>
    </message>
    <message>
        <source>&amp;Generate</source>
        <translation>&amp;Erzeugen</translation>
    </message>
    <message>
        <source>&amp;Cancel</source>
        <translation>&amp;Abbrechen</translation>
    </message>
    <message>
        <source>&amp;Mask</source>
        <translation>&amp;Maske</translation>
    </message>
    <message>
        <source>Brush / eraser</source>
        <translation>Pinsel / Radierer</translation>
    </message>
    <message>
        <source>Smaller brush</source>
        <translation>Kleinerer Pinsel</translation>
    </message>
    <message>
        <source>Larger brush</source>
        <translation>Größerer Pinsel</translation>
    </message>
    <message>
        <source>Clear mask</source>
        <translation>Maske leeren</translation>
    </message>
    <message>
        <source>Invert mask</source>
        <translation>Maske umkehren</translation>
    </message>
    <message>
        <source>Fill mask</source>
        <translation>Maske füllen</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Fit to window</source>
        <translation>An &amp;Fenster anpassen</translation>
    </message>
    <message>
        <source>Ctrl+0</source>
        <translation>Ctrl+0</translation>
    </message>
    <message>
        <source>&amp;100%</source>
        <translation>&amp;100 %</translation>
    </message>
    <message>
        <source>Ctrl+1</source>
        <translation>Ctrl+1</translation>
    </message>
    <message>
        <source>View</source>
        <translation>Ansehen</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>&amp;About Stipple</source>
        <translation>&amp;Über Stipple</translation>
    </message>
    <message>
        <source>About Stipple</source>
        <translation>Über Stipple</translation>
    </message>
    <message>
        <source>&lt;b&gt;Stipple&lt;/b&gt; %1&lt;br&gt;A native desktop studio for Stable Diffusion.</source>
        <translation>&lt;b&gt;Stipple&lt;/b&gt; %1&lt;br&gt;Ein natives Desktop-Studio für Stable Diffusion.</translation>
    </message>
    <message>
        <source>No model is loaded yet.

Pick one in the Model list on the left, or use File → Open model file… for a .safetensors checkpoint (SD 1.x / 2.x) or File → Open diffusers folder… for a folder with model_index.json.

Models you put into %1 are listed automatically.</source>
        <translation>Es ist noch kein Modell geladen.

Wählen Sie eines in der Modellliste links, oder öffnen Sie mit Datei → Modelldatei öffnen… einen .safetensors-Checkpoint (SD 1.x / 2.x) bzw. mit Datei → Diffusers-Ordner öffnen… einen Ordner mit model_index.json.

Modelle in %1 werden automatisch aufgelistet.</translation>
    </message>
    <message>
        <source>Write a prompt and press Generate (Ctrl+Enter).</source>
        <translation>Schreiben Sie einen Prompt und klicken Sie auf Erzeugen (Strg+Eingabe).</translation>
    </message>
    <message>
        <source>Drop an image here, paste one (Ctrl+Shift+V) or drag one from the gallery.</source>
        <translation>Legen Sie hier ein Bild ab, fügen Sie eines ein (Strg+Umschalt+V) oder ziehen Sie eines aus der Galerie.</translation>
    </message>
    <message>
        <source>Init image set (%1 × %2).</source>
        <translation>Ausgangsbild gesetzt (%1 × %2).</translation>
    </message>
    <message>
        <source>Init image: %1 (%2 × %3).</source>
        <translation>Ausgangsbild: %1 (%2 × %3).</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 wird geladen…</translation>
    </message>
    <message>
        <source>Load a model first: pick one in the Model list or use File → Open model file…</source>
        <translation>Laden Sie zuerst ein Modell: Wählen Sie eines in der Modellliste oder nutzen Sie Datei → Modelldatei öffnen…</translation>
    </message>
    <message>
        <source>The model is still loading; try again when it is ready.</source>
        <translation>Das Modell wird noch geladen; versuchen Sie es erneut, wenn es bereit ist.</translation>
    </message>
    <message>
        <source>A generation is already running. Cancel it (Esc) or wait for it to finish.</source>
        <translation>Es läuft bereits eine Erzeugung. Brechen Sie sie ab (Esc) oder warten Sie, bis sie fertig ist.</translation>
    </message>
    <message>
        <source>This mode needs an init image: drop one on the canvas, paste one or send one from the gallery.</source>
        <translation>Dieser Modus braucht ein Ausgangsbild: Legen Sie eines auf der Leinwand ab, fügen Sie eines ein oder senden Sie eines aus der Galerie.</translation>
    </message>
    <message>
        <source>Paint the area to regenerate on the canvas first (or use Mask → Fill mask).</source>
        <translation>Malen Sie zuerst den neu zu erzeugenden Bereich auf die Leinwand (oder nutzen Sie Maske → Maske füllen).</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Wird gestartet…</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Prompt restored from %1.</source>
        <translation>Prompt aus %1 übernommen.</translation>
    </message>
    <message>
        <source>Parameters restored from %1.</source>
        <translation>Parameter aus %1 übernommen.</translation>
    </message>
    <message>
        <source>It was made with the model “%1”.</source>
        <translation>Es wurde mit dem Modell „%1“ erzeugt.</translation>
    </message>
    <message>
        <source>Open init image</source>
        <translation>Ausgangsbild öffnen</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>Bilder (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <source>Restore parameters from an image</source>
        <translation>Parameter aus einem Bild übernehmen</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG-Bilder (*.png)</translation>
    </message>
    <message>
        <source>Model loaded</source>
        <translation>Modell geladen</translation>
    </message>
    <message>
        <source>Loaded %1 (%2).</source>
        <translation>%1 geladen (%2).</translation>
    </message>
    <message>
        <source>This is an inpainting model: it paints best in the Inpaint mode.</source>
        <translation>Dies ist ein Inpainting-Modell: Am besten malt es im Inpaint-Modus.</translation>
    </message>
    <message>
        <source>Model not loaded</source>
        <translation>Modell nicht geladen</translation>
    </message>
    <message>
        <source>%1
%2</source>
        <translation>%1
%2</translation>
    </message>
    <message>
        <source>The image was not saved to the gallery: %1</source>
        <translation>Das Bild wurde nicht in der Galerie gespeichert: %1</translation>
    </message>
    <message>
        <source>Done in %1 s</source>
        <translation>Fertig in %1 s</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>Abgebrochen</translation>
    </message>
    <message>
        <source>Generation cancelled.</source>
        <translation>Erzeugung abgebrochen.</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Fehlgeschlagen</translation>
    </message>
    <message>
        <source>Try a smaller size, fewer images per batch, or bfloat16.</source>
        <translation>Versuchen Sie eine kleinere Größe, weniger Bilder pro Stapel oder bfloat16.</translation>
    </message>
    <message>
        <source>CLIP vocabulary needed</source>
        <translation>CLIP-Vokabular benötigt</translation>
    </message>
    <message>
        <source>This checkpoint is a single file without the CLIP tokenizer vocabulary. Stipple can download it once (1.3 MB from openai/CLIP, checked by SHA-256) and keep it for all single-file models.</source>
        <translation>Dieser Checkpoint ist eine einzelne Datei ohne das Vokabular des CLIP-Tokenizers. Stipple kann es einmalig herunterladen (1,3 MB von openai/CLIP, per SHA-256 geprüft) und für alle Einzeldatei-Modelle aufbewahren.</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>Herunterladen</translation>
    </message>
    <message>
        <source>Choose file…</source>
        <translation>Datei wählen…</translation>
    </message>
    <message>
        <source>CLIP vocabulary installed at %1.</source>
        <translation>CLIP-Vokabular unter %1 installiert.</translation>
    </message>
    <message>
        <source>CLIP vocabulary</source>
        <translation>CLIP-Vokabular</translation>
    </message>
    <message>
        <source>CLIP vocabulary (bpe_simple_vocab_16e6.txt.gz)</source>
        <translation>CLIP-Vokabular (bpe_simple_vocab_16e6.txt.gz)</translation>
    </message>
    <message>
        <source>Downloading the CLIP vocabulary…</source>
        <translation>CLIP-Vokabular wird heruntergeladen…</translation>
    </message>
</context>
<context>
    <name>stipple::ui::MaskToolsPanel</name>
    <message>
        <source>Brush</source>
        <translation>Pinsel</translation>
    </message>
    <message>
        <source>Paint the area to regenerate (E toggles brush/eraser)</source>
        <translation>Den neu zu erzeugenden Bereich malen (E wechselt Pinsel/Radierer)</translation>
    </message>
    <message>
        <source>Eraser</source>
        <translation>Radierer</translation>
    </message>
    <message>
        <source>Erase the mask (E toggles brush/eraser)</source>
        <translation>Die Maske radieren (E wechselt Pinsel/Radierer)</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>Größe:</translation>
    </message>
    <message>
        <source>Brush diameter in image pixels ([ and ] change it)</source>
        <translation>Pinseldurchmesser in Bildpixeln ([ und ] ändern ihn)</translation>
    </message>
    <message>
        <source>Hardness:</source>
        <translation>Härte:</translation>
    </message>
    <message>
        <source>Hard edge (right) or soft, feathered edge (left)</source>
        <translation>Harte Kante (rechts) oder weiche, ausgeblendete Kante (links)</translation>
    </message>
    <message>
        <source>Mask overlay colour</source>
        <translation>Farbe der Maskenüberlagerung</translation>
    </message>
    <message>
        <source>Mask overlay opacity</source>
        <translation>Deckkraft der Maskenüberlagerung</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>Leeren</translation>
    </message>
    <message>
        <source>Clear the mask</source>
        <translation>Die Maske leeren</translation>
    </message>
    <message>
        <source>Invert</source>
        <translation>Umkehren</translation>
    </message>
    <message>
        <source>Invert the mask</source>
        <translation>Die Maske umkehren</translation>
    </message>
    <message>
        <source>Fill</source>
        <translation>Füllen</translation>
    </message>
    <message>
        <source>Mask the whole picture</source>
        <translation>Das ganze Bild maskieren</translation>
    </message>
    <message>
        <source>Import…</source>
        <translation>Importieren…</translation>
    </message>
    <message>
        <source>Load a mask from a PNG (white = repaint)</source>
        <translation>Eine Maske aus einem PNG laden (weiß = neu malen)</translation>
    </message>
    <message>
        <source>Import mask</source>
        <translation>Maske importieren</translation>
    </message>
    <message>
        <source>Images (*.png *.jpg *.jpeg *.webp *.bmp)</source>
        <translation>Bilder (*.png *.jpg *.jpeg *.webp *.bmp)</translation>
    </message>
    <message>
        <source>Mask imported from %1.</source>
        <translation>Maske aus %1 importiert.</translation>
    </message>
    <message>
        <source>Export…</source>
        <translation>Exportieren…</translation>
    </message>
    <message>
        <source>Save the mask as a PNG (white = repaint)</source>
        <translation>Die Maske als PNG speichern (weiß = neu malen)</translation>
    </message>
    <message>
        <source>Export mask</source>
        <translation>Maske exportieren</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG-Bilder (*.png)</translation>
    </message>
    <message>
        <source>Mask saved to %1.</source>
        <translation>Maske unter %1 gespeichert.</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>Rückgängig</translation>
    </message>
    <message>
        <source>Redo</source>
        <translation>Wiederholen</translation>
    </message>
    <message>
        <source>Clear mask</source>
        <translation>Maske leeren</translation>
    </message>
    <message>
        <source>Invert mask</source>
        <translation>Maske umkehren</translation>
    </message>
    <message>
        <source>Fill mask</source>
        <translation>Maske füllen</translation>
    </message>
    <message>
        <source>Open an image first: the mask belongs to the init image.</source>
        <translation>Öffnen Sie zuerst ein Bild: Die Maske gehört zum Ausgangsbild.</translation>
    </message>
    <message>
        <source>“%1” is not an image Stipple can read: %2</source>
        <translation>„%1“ ist kein Bild, das Stipple lesen kann: %2</translation>
    </message>
    <message>
        <source>There is no mask to export.</source>
        <translation>Es gibt keine Maske zum Exportieren.</translation>
    </message>
    <message>
        <source>Could not write %1.</source>
        <translation>%1 konnte nicht geschrieben werden.</translation>
    </message>
</context>
<context>
    <name>stipple::ui::ModelPicker</name>
    <message>
        <source>Models found in the models folder</source>
        <translation>Im Modellordner gefundene Modelle</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>Öffnen…</translation>
    </message>
    <message>
        <source>Checkpoint file (.safetensors)…</source>
        <translation>Checkpoint-Datei (.safetensors)…</translation>
    </message>
    <message>
        <source>Open checkpoint</source>
        <translation>Checkpoint öffnen</translation>
    </message>
    <message>
        <source>Safetensors checkpoints (*.safetensors)</source>
        <translation>Safetensors-Checkpoints (*.safetensors)</translation>
    </message>
    <message>
        <source>Diffusers folder…</source>
        <translation>Diffusers-Ordner…</translation>
    </message>
    <message>
        <source>Open diffusers model folder</source>
        <translation>Diffusers-Modellordner öffnen</translation>
    </message>
    <message>
        <source>Folder…</source>
        <translation>Ordner…</translation>
    </message>
    <message>
        <source>Choose the folder that holds your models</source>
        <translation>Den Ordner mit Ihren Modellen wählen</translation>
    </message>
    <message>
        <source>Scan the models folder again</source>
        <translation>Den Modellordner erneut durchsuchen</translation>
    </message>
    <message>
        <source>Models folder</source>
        <translation>Modellordner</translation>
    </message>
    <message>
        <source>No model loaded.</source>
        <translation>Kein Modell geladen.</translation>
    </message>
    <message>
        <source>No models in %1</source>
        <translation>Keine Modelle in %1</translation>
    </message>
    <message>
        <source>Choose a model…</source>
        <translation>Modell wählen…</translation>
    </message>
    <message>
        <source>%1 (diffusers)</source>
        <translation>%1 (Diffusers)</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 wird geladen…</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Wird geladen…</translation>
    </message>
    <message>
        <source>Loading %1/%2</source>
        <translation>Laden %1/%2</translation>
    </message>
    <message>
        <source>unknown family</source>
        <translation>unbekannte Familie</translation>
    </message>
    <message>
        <source>inpaint</source>
        <translation>Inpaint</translation>
    </message>
    <message>
        <source>depth</source>
        <translation>Tiefe</translation>
    </message>
    <message>
        <source>v-prediction</source>
        <translation>v-Vorhersage</translation>
    </message>
    <message>
        <source>epsilon</source>
        <translation>Epsilon</translation>
    </message>
    <message>
        <source>single file</source>
        <translation>Einzeldatei</translation>
    </message>
    <message>
        <source>diffusers folder</source>
        <translation>Diffusers-Ordner</translation>
    </message>
    <message>
        <source>&lt;b&gt;%1&lt;/b&gt;&lt;br&gt;%2</source>
        <translation>&lt;b&gt;%1&lt;/b&gt;&lt;br&gt;%2</translation>
    </message>
    <message>
        <source>Prediction type from: %1
Loaded in %2 s</source>
        <translation>Vorhersagetyp aus: %1
Geladen in %2 s</translation>
    </message>
</context>
<context>
    <name>stipple::ui::ParametersPanel</name>
    <message>
        <source>Sampler:</source>
        <translation>Sampler:</translation>
    </message>
    <message>
        <source>Steps:</source>
        <translation>Schritte:</translation>
    </message>
    <message>
        <source>Classifier-free guidance: how strictly the image follows the prompt.</source>
        <translation>Classifier-free Guidance: wie streng das Bild dem Prompt folgt.</translation>
    </message>
    <message>
        <source>CFG scale:</source>
        <translation>CFG-Skala:</translation>
    </message>
    <message>
        <source>random</source>
        <translation>zufällig</translation>
    </message>
    <message>
        <source>-1 picks a random seed for each image; any other number repeats a result.</source>
        <translation>-1 wählt für jedes Bild einen zufälligen Seed; jede andere Zahl wiederholt ein Ergebnis.</translation>
    </message>
    <message>
        <source>Random seed (-1)</source>
        <translation>Zufälliger Seed (-1)</translation>
    </message>
    <message>
        <source>Reuse the seed of the last image</source>
        <translation>Seed des letzten Bildes übernehmen</translation>
    </message>
    <message>
        <source>Seed:</source>
        <translation>Seed:</translation>
    </message>
    <message>
        <source>Swap width and height</source>
        <translation>Breite und Höhe tauschen</translation>
    </message>
    <message>
        <source>Size:</source>
        <translation>Größe:</translation>
    </message>
    <message>
        <source>Presets…</source>
        <translation>Vorgaben…</translation>
    </message>
    <message>
        <source>How many images to make one after another (seed + 1 each).</source>
        <translation>Wie viele Bilder nacheinander erzeugt werden (jeweils Seed + 1).</translation>
    </message>
    <message>
        <source>Batch count:</source>
        <translation>Anzahl Durchläufe:</translation>
    </message>
    <message>
        <source>Init image</source>
        <translation>Ausgangsbild</translation>
    </message>
    <message>
        <source>Denoising strength:</source>
        <translation>Entrauschungsstärke:</translation>
    </message>
    <message>
        <source>0 keeps the init image, 1 replaces it completely.</source>
        <translation>0 behält das Ausgangsbild, 1 ersetzt es vollständig.</translation>
    </message>
    <message>
        <source>Just resize</source>
        <translation>Nur skalieren</translation>
    </message>
    <message>
        <source>Crop and resize</source>
        <translation>Zuschneiden und skalieren</translation>
    </message>
    <message>
        <source>Resize and fill</source>
        <translation>Skalieren und auffüllen</translation>
    </message>
    <message>
        <source>Resize mode:</source>
        <translation>Skalierungsmodus:</translation>
    </message>
    <message>
        <source>Inpaint</source>
        <translation>Inpaint</translation>
    </message>
    <message>
        <source>Mask blur:</source>
        <translation>Maskenunschärfe:</translation>
    </message>
    <message>
        <source>Original</source>
        <translation>Original</translation>
    </message>
    <message>
        <source>Fill</source>
        <translation>Füllen</translation>
    </message>
    <message>
        <source>Latent noise</source>
        <translation>Latentes Rauschen</translation>
    </message>
    <message>
        <source>Latent nothing</source>
        <translation>Latent leer</translation>
    </message>
    <message>
        <source>Masked content:</source>
        <translation>Maskierter Inhalt:</translation>
    </message>
    <message>
        <source>Whole picture</source>
        <translation>Ganzes Bild</translation>
    </message>
    <message>
        <source>Only masked</source>
        <translation>Nur maskiert</translation>
    </message>
    <message>
        <source>Inpaint area:</source>
        <translation>Inpaint-Bereich:</translation>
    </message>
    <message>
        <source>Only masked padding:</source>
        <translation>Rand bei „Nur maskiert“:</translation>
    </message>
    <message>
        <source>Reuse the seed of the last image (%1)</source>
        <translation>Seed des letzten Bildes übernehmen (%1)</translation>
    </message>
</context>
<context>
    <name>stipple::ui::ProgressView</name>
    <message>
        <source>%1 it/s</source>
        <translation>%1 it/s</translation>
    </message>
    <message>
        <source>%1 s/it</source>
        <translation>%1 s/it</translation>
    </message>
    <message>
        <source>ETA %1</source>
        <translation>Rest %1</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
</context>
<context>
    <name>stipple::ui::VocabularyDownloader</name>
    <message>
        <source>Single-file checkpoints do not contain the CLIP vocabulary.
Download %1
from %2
and put it into %3
(or choose it with File → CLIP vocabulary…). Diffusers model folders do not need it.</source>
        <translation>Einzeldatei-Checkpoints enthalten das CLIP-Vokabular nicht.
Laden Sie %1
von %2
herunter und legen Sie es in %3 ab
(oder wählen Sie es mit Datei → CLIP-Vokabular…). Diffusers-Modellordner brauchen es nicht.</translation>
    </message>
    <message>
        <source>The downloaded vocabulary is not the expected file (SHA-256 %1, expected %2). It was not saved.</source>
        <translation>Das heruntergeladene Vokabular ist nicht die erwartete Datei (SHA-256 %1, erwartet %2). Es wurde nicht gespeichert.</translation>
    </message>
    <message>
        <source>No folder to save the vocabulary to (neither XDG_DATA_HOME nor HOME is set).</source>
        <translation>Kein Ordner zum Speichern des Vokabulars (weder XDG_DATA_HOME noch HOME ist gesetzt).</translation>
    </message>
    <message>
        <source>Could not save %1: %2</source>
        <translation>%1 konnte nicht gespeichert werden: %2</translation>
    </message>
    <message>
        <source>Could not open %1: %2</source>
        <translation>%1 konnte nicht geöffnet werden: %2</translation>
    </message>
    <message>
        <source>The download failed: %1

%2</source>
        <translation>Der Download ist fehlgeschlagen: %1

%2</translation>
    </message>
</context>
<context>
    <name>stipple::ui</name>
    <message>
        <source>Loading</source>
        <translation>Laden</translation>
    </message>
    <message>
        <source>Encoding</source>
        <translation>Kodieren</translation>
    </message>
    <message>
        <source>Denoising</source>
        <translation>Entrauschen</translation>
    </message>
    <message>
        <source>Decoding</source>
        <translation>Dekodieren</translation>
    </message>
    <message>
        <source>Unknown model</source>
        <translation>Unbekanntes Modell</translation>
    </message>
    <message>
        <source>inpaint</source>
        <translation>Inpaint</translation>
    </message>
    <message>
        <source>depth</source>
        <translation>Tiefe</translation>
    </message>
    <message>
        <source>v-prediction</source>
        <translation>v-Vorhersage</translation>
    </message>
</context>
</TS>
