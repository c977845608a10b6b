#!/bin/sh
# Refreshes stipple_de.ts from the sources (run from the repository root).
# Qt 6.4's lupdate parser does not resolve C++17 nested namespaces
# ("namespace stipple::ui {"), so it files tr() strings of
# stipple::ui::MainWindow under "MainWindow"; the sed below restores the
# class names Qt uses at run time (metaObject()->className()). Contexts
# given explicitly with QCoreApplication::translate ("ImageDrop") stay.
set -e
LUPDATE=${LUPDATE:-/usr/lib/qt6/bin/lupdate}
# Back to lupdate's context names first, so existing translations are kept.
sed -i -E 's#<name>stipple::ui::([A-Za-z]+)</name>#<name>\1</name>#' translations/stipple_de.ts
"$LUPDATE" -no-obsolete -locations none -target-language de_DE ui/widgets ui/bridge app/gui \
    -ts translations/stipple_de.ts
sed -i -E 's#<name>(GalleryModel|JobQueue|GenerationWorker|GenerationController|BrushTool|GalleryView|MainWindow|MaskToolsPanel|ModelPicker|ParametersPanel|ProgressView|VocabularyDownloader|Canvas|PromptEdit|StrokeTool)</name>#<name>stipple::ui::\1</name>#' \
    translations/stipple_de.ts
