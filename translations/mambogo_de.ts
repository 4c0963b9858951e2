<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de_DE">
<context>
    <name>ClusterLauncher</name>
    <message>
        <source>mambogo-cluster was not found next to the console, in its build tree or on PATH</source>
        <translation>mambogo-cluster wurde weder neben der Konsole noch in ihrem Build-Verzeichnis oder im PATH gefunden</translation>
    </message>
    <message>
        <source>could not start %1: %2</source>
        <translation>%1 konnte nicht gestartet werden: %2</translation>
    </message>
    <message>
        <source>mambogo-cluster exited (code %1) before the cluster was ready</source>
        <translation>mambogo-cluster wurde beendet (Code %1), bevor der Cluster bereit war</translation>
    </message>
    <message>
        <source>the local cluster stopped unexpectedly (exit code %1)</source>
        <translation>der lokale Cluster wurde unerwartet beendet (Exit-Code %1)</translation>
    </message>
</context>
<context>
    <name>FaultController</name>
    <message>
        <source>%1 on %2</source>
        <translation>%1 auf %2</translation>
    </message>
    <message>
        <source>%1 %2 → %3</source>
        <translation>%1 %2 → %3</translation>
    </message>
    <message>
        <source>HTTP abort</source>
        <translation>HTTP-Abbruch</translation>
    </message>
    <message>
        <source>HTTP %1</source>
        <translation>HTTP %1</translation>
    </message>
    <message>
        <source>HTTP delay %1</source>
        <translation>HTTP-Verzögerung %1</translation>
    </message>
    <message>
        <source>CPU stress %1×%2% on %3</source>
        <translation>CPU-Last %1×%2% auf %3</translation>
    </message>
    <message>
        <source>Fault not injected: %1</source>
        <translation>Störung nicht eingespeist: %1</translation>
    </message>
    <message>
        <source>Could not remove %1: %2</source>
        <translation>%1 konnte nicht entfernt werden: %2</translation>
    </message>
    <message>
        <source>Recovery incomplete: %1</source>
        <translation>Wiederherstellung unvollständig: %1</translation>
    </message>
</context>
<context>
    <name>LoadController</name>
    <message>
        <source>Browse catalogue (20 req/s)</source>
        <translation>Katalog durchstöbern (20 Anfr./s)</translation>
    </message>
    <message>
        <source>Product listing and detail pages at a constant 20 arrivals per second for 60 s.</source>
        <translation>Produktliste und Detailseiten mit konstant 20 Ankünften pro Sekunde für 60 s.</translation>
    </message>
    <message>
        <source>Place orders (10/s)</source>
        <translation>Bestellungen aufgeben (10/s)</translation>
    </message>
    <message>
        <source>Orders through the gateway, order, product and payment services: 10 per second for 60 s.</source>
        <translation>Bestellungen über Gateway, Bestell-, Produkt- und Zahlungsdienst: 10 pro Sekunde für 60 s.</translation>
    </message>
    <message>
        <source>Shop: ramp, steady, peak</source>
        <translation>Shop: Anstieg, gleichmäßig, Spitze</translation>
    </message>
    <message>
        <source>Browsing and orders 7:3, ramping 5 to 40 per second, steady, then a peak of 80.</source>
        <translation>Stöbern und Bestellen 7:3, Anstieg von 5 auf 40 pro Sekunde, gleichmäßig, dann eine Spitze von 80.</translation>
    </message>
    <message>
        <source>JMeter test plan</source>
        <translation>JMeter-Testplan</translation>
    </message>
    <message>
        <source>Artillery script</source>
        <translation>Artillery-Skript</translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Mambogo: operations console for SREs</source>
        <translation>Mambogo: Betriebskonsole für SREs</translation>
    </message>
    <message>
        <source>Run the terminal UI.</source>
        <translation>Die Terminal-Oberfläche starten.</translation>
    </message>
    <message>
        <source>Connect with this kubeconfig file.</source>
        <translation>Mit dieser kubeconfig-Datei verbinden.</translation>
    </message>
    <message>
        <source>The kubeconfig context to use.</source>
        <translation>Der zu verwendende kubeconfig-Kontext.</translation>
    </message>
    <message>
        <source>Launch the bundled local cluster at start.</source>
        <translation>Beim Start den mitgelieferten lokalen Cluster starten.</translation>
    </message>
    <message>
        <source>Save a PNG of the main window, then quit.</source>
        <translation>Ein PNG des Hauptfensters speichern, dann beenden.</translation>
    </message>
    <message>
        <source>Seconds to wait before the screenshot (default 2).</source>
        <translation>Sekunden bis zum Bildschirmfoto (Standard 2).</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::ChartsPanel</name>
    <message>
        <source>Window:</source>
        <translation>Zeitfenster:</translation>
    </message>
    <message>
        <source>1 minute</source>
        <translation>1 Minute</translation>
    </message>
    <message>
        <source>5 minutes</source>
        <translation>5 Minuten</translation>
    </message>
    <message>
        <source>15 minutes</source>
        <translation>15 Minuten</translation>
    </message>
    <message>
        <source>1 hour</source>
        <translation>1 Stunde</translation>
    </message>
    <message>
        <source>Autoscaler:</source>
        <translation>Autoscaler:</translation>
    </message>
    <message>
        <source>no HPA</source>
        <translation>kein HPA</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Anhalten</translation>
    </message>
    <message>
        <source>Freeze the charts; data keep being recorded</source>
        <translation>Diagramme einfrieren; Daten werden weiter aufgezeichnet</translation>
    </message>
    <message>
        <source>Live</source>
        <translation>Live</translation>
    </message>
    <message>
        <source>Leave the zoom and follow the latest data (drag on a chart to zoom)</source>
        <translation>Zoom verlassen und den neuesten Daten folgen (zum Zoomen im Diagramm ziehen)</translation>
    </message>
    <message>
        <source>Latency</source>
        <translation>Latenz</translation>
    </message>
    <message>
        <source>ms</source>
        <translation>ms</translation>
    </message>
    <message>
        <source>p50</source>
        <translation>p50</translation>
    </message>
    <message>
        <source>p95</source>
        <translation>p95</translation>
    </message>
    <message>
        <source>p99</source>
        <translation>p99</translation>
    </message>
    <message>
        <source>Throughput</source>
        <translation>Durchsatz</translation>
    </message>
    <message>
        <source>req/s</source>
        <translation>Anfr./s</translation>
    </message>
    <message>
        <source>requests/s</source>
        <translation>Anfragen/s</translation>
    </message>
    <message>
        <source>Error rate</source>
        <translation>Fehlerquote</translation>
    </message>
    <message>
        <source>%</source>
        <translation>%</translation>
    </message>
    <message>
        <source>errors</source>
        <translation>Fehler</translation>
    </message>
    <message>
        <source>Replicas and utilization</source>
        <translation>Replikate und Auslastung</translation>
    </message>
    <message>
        <source>replicas</source>
        <translation>Replikate</translation>
    </message>
    <message>
        <source>CPU %</source>
        <translation>CPU %</translation>
    </message>
    <message>
        <source>current</source>
        <translation>aktuell</translation>
    </message>
    <message>
        <source>desired</source>
        <translation>gewünscht</translation>
    </message>
    <message>
        <source>utilization</source>
        <translation>Auslastung</translation>
    </message>
    <message>
        <source>target</source>
        <translation>Ziel</translation>
    </message>
    <message>
        <source>2 minutes</source>
        <translation>2 Minuten</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::ClusterPanel</name>
    <message>
        <source>&lt;h3&gt;No cluster connected&lt;/h3&gt;&lt;p&gt;Launch the bundled shop on this machine with one click, or connect to a Kubernetes cluster from your kubeconfig.&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Kein Cluster verbunden&lt;/h3&gt;&lt;p&gt;Starten Sie den mitgelieferten Shop mit einem Klick auf diesem Rechner, oder verbinden Sie sich mit einem Kubernetes-Cluster aus Ihrer kubeconfig.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>Pod</source>
        <translation>Pod</translation>
    </message>
    <message>
        <source>State</source>
        <translation>Zustand</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>Bereit</translation>
    </message>
    <message>
        <source>Scale…</source>
        <translation>Skalieren…</translation>
    </message>
    <message>
        <source>Restart</source>
        <translation>Neu starten</translation>
    </message>
    <message>
        <source>Delete pod</source>
        <translation>Pod löschen</translation>
    </message>
    <message>
        <source>Logs</source>
        <translation>Logs</translation>
    </message>
    <message>
        <source>Set the number of replicas of the selected deployment</source>
        <translation>Die Anzahl der Replikate des gewählten Deployments festlegen</translation>
    </message>
    <message>
        <source>Rolling restart of the selected deployment (like kubectl rollout restart)</source>
        <translation>Rollierender Neustart des gewählten Deployments (wie kubectl rollout restart)</translation>
    </message>
    <message>
        <source>&lt;b&gt;Starting the local cluster&lt;/b&gt; (profile %1)…</source>
        <translation>&lt;b&gt;Lokaler Cluster wird gestartet&lt;/b&gt; (Profil %1)…</translation>
    </message>
    <message>
        <source>%1 of %2 pods ready</source>
        <translation>%1 von %2 Pods bereit</translation>
    </message>
    <message>
        <source>Scale %1</source>
        <translation>%1 skalieren</translation>
    </message>
    <message>
        <source>Replicas:</source>
        <translation>Replikate:</translation>
    </message>
    <message>
        <source>Scaled %1 to %2 replicas</source>
        <translation>%1 auf %2 Replikate skaliert</translation>
    </message>
    <message>
        <source>Could not scale %1: %2</source>
        <translation>%1 konnte nicht skaliert werden: %2</translation>
    </message>
    <message>
        <source>Restarting %1</source>
        <translation>%1 wird neu gestartet</translation>
    </message>
    <message>
        <source>Could not restart %1: %2</source>
        <translation>%1 konnte nicht neu gestartet werden: %2</translation>
    </message>
    <message>
        <source>Delete pod %1? Its deployment will start a new one.</source>
        <translation>Pod %1 löschen? Sein Deployment startet einen neuen.</translation>
    </message>
    <message>
        <source>Deleted pod %1</source>
        <translation>Pod %1 gelöscht</translation>
    </message>
    <message>
        <source>Could not delete %1: %2</source>
        <translation>%1 konnte nicht gelöscht werden: %2</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::ConnectDialog</name>
    <message>
        <source>Connect to a cluster</source>
        <translation>Mit einem Cluster verbinden</translation>
    </message>
    <message>
        <source>…</source>
        <translation>…</translation>
    </message>
    <message>
        <source>Choose a kubeconfig file</source>
        <translation>Eine kubeconfig-Datei wählen</translation>
    </message>
    <message>
        <source>Connect</source>
        <translation>Verbinden</translation>
    </message>
    <message>
        <source>Kubeconfig:</source>
        <translation>Kubeconfig:</translation>
    </message>
    <message>
        <source>Context:</source>
        <translation>Kontext:</translation>
    </message>
    <message>
        <source>Kubeconfig</source>
        <translation>Kubeconfig</translation>
    </message>
    <message>
        <source>Server %1, namespace %2</source>
        <translation>Server %1, Namespace %2</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::DrillsPanel</name>
    <message>
        <source>All drills</source>
        <translation>Alle Übungen</translation>
    </message>
    <message>
        <source>Q1 — why is it slow? (caching, pools, indexes)</source>
        <translation>Q1 — warum ist es langsam? (Caching, Pools, Indizes)</translation>
    </message>
    <message>
        <source>Q2 — how does it scale to 10x?</source>
        <translation>Q2 — wie skaliert es auf das 10-Fache?</translation>
    </message>
    <message>
        <source>Q3 — what happens when a dependency fails?</source>
        <translation>Q3 — was passiert, wenn eine Abhängigkeit ausfällt?</translation>
    </message>
    <message>
        <source>Q4 — is an accepted order ever lost?</source>
        <translation>Q4 — geht je eine angenommene Bestellung verloren?</translation>
    </message>
    <message>
        <source>Interview mode: the drills that answer each question of the guide with evidence</source>
        <translation>Interviewmodus: die Übungen, die jede Frage des Leitfadens mit Belegen beantworten</translation>
    </message>
    <message>
        <source>Run drill</source>
        <translation>Übung starten</translation>
    </message>
    <message>
        <source>Abort</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Save report…</source>
        <translation>Bericht speichern…</translation>
    </message>
    <message>
        <source>What</source>
        <translation>Was</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>At</source>
        <translation>Zeitpunkt</translation>
    </message>
    <message>
        <source>Measured</source>
        <translation>Gemessen</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>Schritte</translation>
    </message>
    <message>
        <source>Expectations</source>
        <translation>Erwartungen</translation>
    </message>
    <message>
        <source>Save drill report</source>
        <translation>Übungsbericht speichern</translation>
    </message>
    <message>
        <source>HTML (*.html);;PDF (*.pdf)</source>
        <translation>HTML (*.html);;PDF (*.pdf)</translation>
    </message>
    <message>
        <source>%1 (invalid)</source>
        <translation>%1 (ungültig)</translation>
    </message>
    <message>
        <source>&lt;h3&gt;%1&lt;/h3&gt;&lt;p style=&quot;color:#d62728&quot;&gt;This drill file is refused:&lt;br&gt;%2&lt;/p&gt;</source>
        <translation>&lt;h3&gt;%1&lt;/h3&gt;&lt;p style=&quot;color:#d62728&quot;&gt;Diese Übungsdatei wird abgelehnt:&lt;br&gt;%2&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Proves:&lt;/b&gt; %1&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Weist nach:&lt;/b&gt; %1&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Answers:&lt;/b&gt; %1&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Beantwortet:&lt;/b&gt; %1&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;i&gt;Needs the full profile (Redis and PostgreSQL).&lt;/i&gt;&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;i&gt;Benötigt das volle Profil (Redis und PostgreSQL).&lt;/i&gt;&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Load:&lt;/b&gt; %1 for %2 s (warmup %3 s)&lt;/p&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Last:&lt;/b&gt; %1 für %2 s (Aufwärmphase %3 s)&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Steps&lt;/b&gt;&lt;/p&gt;&lt;ul&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Schritte&lt;/b&gt;&lt;/p&gt;&lt;ul&gt;</translation>
    </message>
    <message>
        <source>&lt;/ul&gt;&lt;p&gt;&lt;b&gt;Expectations&lt;/b&gt;&lt;/p&gt;&lt;ul&gt;</source>
        <translation>&lt;/ul&gt;&lt;p&gt;&lt;b&gt;Erwartungen&lt;/b&gt;&lt;/p&gt;&lt;ul&gt;</translation>
    </message>
    <message>
        <source>planned</source>
        <translation>geplant</translation>
    </message>
    <message>
        <source>pending</source>
        <translation>ausstehend</translation>
    </message>
    <message>
        <source>Running: %1 s</source>
        <translation>Läuft: %1 s</translation>
    </message>
    <message>
        <source>Starting…</source>
        <translation>Startet…</translation>
    </message>
    <message>
        <source>aborted by the user</source>
        <translation>vom Benutzer abgebrochen</translation>
    </message>
    <message>
        <source>rollback: </source>
        <translation>Rollback: </translation>
    </message>
    <message>
        <source>running</source>
        <translation>läuft</translation>
    </message>
    <message>
        <source>✓ done</source>
        <translation>✓ fertig</translation>
    </message>
    <message>
        <source>✗ failed</source>
        <translation>✗ fehlgeschlagen</translation>
    </message>
    <message>
        <source>✓ pass</source>
        <translation>✓ bestanden</translation>
    </message>
    <message>
        <source>✗ fail</source>
        <translation>✗ nicht bestanden</translation>
    </message>
    <message>
        <source>&lt;b style=&quot;color:%1&quot;&gt;%2&lt;/b&gt; — score %3/100 — %4</source>
        <translation>&lt;b style=&quot;color:%1&quot;&gt;%2&lt;/b&gt; — Punktzahl %3/100 — %4</translation>
    </message>
    <message>
        <source>Report saved: %1</source>
        <translation>Bericht gespeichert: %1</translation>
    </message>
    <message>
        <source>Cannot save the report: %1</source>
        <translation>Bericht kann nicht gespeichert werden: %1</translation>
    </message>
    <message>
        <source>Connect to a cluster or launch the local one first</source>
        <translation>Zuerst mit einem Cluster verbinden oder den lokalen starten</translation>
    </message>
    <message>
        <source>Predict first</source>
        <translation>Erst vorhersagen</translation>
    </message>
    <message>
        <source>Interview mode: answer the drill&apos;s questions with numbers before it runs; the report scores them</source>
        <translation>Interview-Modus: die Fragen der Übung vor dem Start mit Zahlen beantworten; der Bericht bewertet sie</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>Vorhersagen</translation>
    </message>
    <message>
        <source>&lt;p&gt;&lt;b&gt;Predict first&lt;/b&gt; (tick the box next to Run):&lt;/p&gt;&lt;ul&gt;</source>
        <translation>&lt;p&gt;&lt;b&gt;Erst vorhersagen&lt;/b&gt; (Kästchen neben „Übung starten“ ankreuzen):&lt;/p&gt;&lt;ul&gt;</translation>
    </message>
    <message>
        <source>predicted</source>
        <translation>vorhergesagt</translation>
    </message>
    <message>
        <source>Predict first: %1</source>
        <translation>Erst vorhersagen: %1</translation>
    </message>
    <message>
        <source>Run with these predictions</source>
        <translation>Mit diesen Vorhersagen starten</translation>
    </message>
    <message>
        <source>What do you expect? Each answer within its tolerance scores 100.</source>
        <translation>Was erwarten Sie? Jede Antwort innerhalb ihrer Toleranz erhält 100 Punkte.</translation>
    </message>
    <message>
        <source> — prediction score %1/100</source>
        <translation> — Vorhersage-Punktzahl %1/100</translation>
    </message>
    <message>
        <source>%1/100</source>
        <translation>%1/100</translation>
    </message>
    <message>
        <source>predicted %1, measured %2 %3</source>
        <translation>vorhergesagt %1, gemessen %2 %3</translation>
    </message>
    <message>
        <source>nothing</source>
        <translation>nichts</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::EventsPanel</name>
    <message>
        <source>Filter events (object, reason, message…)</source>
        <translation>Ereignisse filtern (Objekt, Grund, Meldung…)</translation>
    </message>
    <message>
        <source>Warnings only</source>
        <translation>Nur Warnungen</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::FaultsPanel</name>
    <message>
        <source>until removed</source>
        <translation>bis entfernt</translation>
    </message>
    <message>
        <source>expired</source>
        <translation>abgelaufen</translation>
    </message>
    <message>
        <source>Pod kill</source>
        <translation>Pod beenden</translation>
    </message>
    <message>
        <source>Pod failure</source>
        <translation>Pod-Ausfall</translation>
    </message>
    <message>
        <source>Network delay</source>
        <translation>Netzwerkverzögerung</translation>
    </message>
    <message>
        <source>Network loss</source>
        <translation>Paketverlust</translation>
    </message>
    <message>
        <source>Network partition</source>
        <translation>Netzwerktrennung</translation>
    </message>
    <message>
        <source>HTTP abort</source>
        <translation>HTTP-Abbruch</translation>
    </message>
    <message>
        <source>HTTP delay</source>
        <translation>HTTP-Verzögerung</translation>
    </message>
    <message>
        <source>HTTP status code</source>
        <translation>HTTP-Statuscode</translation>
    </message>
    <message>
        <source>CPU stress</source>
        <translation>CPU-Last</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Inject</source>
        <translation>Einspeisen</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>Entfernen</translation>
    </message>
    <message>
        <source>Recover all</source>
        <translation>Alle aufheben</translation>
    </message>
    <message>
        <source>Fault</source>
        <translation>Störung</translation>
    </message>
    <message>
        <source>Left</source>
        <translation>Verbleibend</translation>
    </message>
    <message>
        <source>Kind</source>
        <translation>Art</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Fault:</source>
        <translation>Störung:</translation>
    </message>
    <message>
        <source>Service:</source>
        <translation>Dienst:</translation>
    </message>
    <message>
        <source>To service:</source>
        <translation>Zum Dienst:</translation>
    </message>
    <message>
        <source>Duration:</source>
        <translation>Dauer:</translation>
    </message>
    <message>
        <source>Active faults:</source>
        <translation>Aktive Störungen:</translation>
    </message>
    <message>
        <source>Injected %1 (%2)</source>
        <translation>Eingespeist: %1 (%2)</translation>
    </message>
    <message numerus="yes">
        <source>Recovered: %n fault(s) removed</source>
        <translation>
            <numerusform>Aufgehoben: %n Störung entfernt</numerusform>
            <numerusform>Aufgehoben: %n Störungen entfernt</numerusform>
        </translation>
    </message>
    <message>
        <source>Latency:</source>
        <translation>Latenz:</translation>
    </message>
    <message>
        <source> ms</source>
        <translation> ms</translation>
    </message>
    <message>
        <source>Loss:</source>
        <translation>Verlust:</translation>
    </message>
    <message>
        <source> %</source>
        <translation> %</translation>
    </message>
    <message>
        <source>Delay:</source>
        <translation>Verzögerung:</translation>
    </message>
    <message>
        <source>Status code:</source>
        <translation>Statuscode:</translation>
    </message>
    <message>
        <source>Workers:</source>
        <translation>Worker:</translation>
    </message>
    <message>
        <source>Parameter:</source>
        <translation>Parameter:</translation>
    </message>
    <message>
        <source>created by Mambogo (label mambogo.io/fault=true)</source>
        <translation>von Mambogo angelegt (Label mambogo.io/fault=true)</translation>
    </message>
    <message>
        <source>not created by Mambogo: &quot;Recover all&quot; leaves it</source>
        <translation>nicht von Mambogo angelegt: „Alle aufheben“ lässt sie bestehen</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::LoadPanel</name>
    <message>
        <source>Import an Artillery (.yml) or JMeter (.jmx) plan…</source>
        <translation>Einen Artillery- (.yml) oder JMeter-Plan (.jmx) importieren…</translation>
    </message>
    <message>
        <source>the plan&apos;s own target</source>
        <translation>das Ziel des Plans</translation>
    </message>
    <message>
        <source>as the plan says</source>
        <translation>wie im Plan</translation>
    </message>
    <message>
        <source>constant rate</source>
        <translation>konstante Rate</translation>
    </message>
    <message>
        <source>constant virtual users</source>
        <translation>konstante virtuelle Benutzer</translation>
    </message>
    <message>
        <source> /s</source>
        <translation> /s</translation>
    </message>
    <message>
        <source> s</source>
        <translation> s</translation>
    </message>
    <message>
        <source>Start load</source>
        <translation>Last starten</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stopp</translation>
    </message>
    <message>
        <source>idle</source>
        <translation>untätig</translation>
    </message>
    <message>
        <source>Plan:</source>
        <translation>Plan:</translation>
    </message>
    <message>
        <source>Target:</source>
        <translation>Ziel:</translation>
    </message>
    <message>
        <source>Workload:</source>
        <translation>Last:</translation>
    </message>
    <message>
        <source>Rate:</source>
        <translation>Rate:</translation>
    </message>
    <message>
        <source>Virtual users:</source>
        <translation>Virtuelle Benutzer:</translation>
    </message>
    <message>
        <source>Duration:</source>
        <translation>Dauer:</translation>
    </message>
    <message>
        <source>%1: starting</source>
        <translation>%1: startet</translation>
    </message>
    <message>
        <source>%1 — %p%</source>
        <translation>%1 — %p%</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>fehlgeschlagen</translation>
    </message>
    <message>
        <source>Import load plan</source>
        <translation>Lastplan importieren</translation>
    </message>
    <message>
        <source>Load plans (*.yml *.yaml *.jmx);;All files (*)</source>
        <translation>Lastpläne (*.yml *.yaml *.jmx);;Alle Dateien (*)</translation>
    </message>
    <message>
        <source>starting</source>
        <translation>startet</translation>
    </message>
    <message>
        <source>%1 req/s · p99 %2 ms · errors %3 % · in flight %4</source>
        <translation>%1 Anfr./s · p99 %2 ms · Fehler %3 % · laufend %4</translation>
    </message>
    <message>
        <source>stopped</source>
        <translation>gestoppt</translation>
    </message>
    <message>
        <source>done</source>
        <translation>fertig</translation>
    </message>
    <message>
        <source>%1 requests, %2 failed, p50 %3 ms, p99 %4 ms in %5 s</source>
        <translation>%1 Anfragen, %2 fehlgeschlagen, p50 %3 ms, p99 %4 ms in %5 s</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::MainWindow</name>
    <message>
        <source>Local cluster failed: %1</source>
        <translation>Lokaler Cluster fehlgeschlagen: %1</translation>
    </message>
    <message>
        <source>FAILED: %1</source>
        <translation>FEHLGESCHLAGEN: %1</translation>
    </message>
    <message>
        <source>Local cluster stopped</source>
        <translation>Lokaler Cluster gestoppt</translation>
    </message>
    <message>
        <source>Load plan &quot;%1&quot; started</source>
        <translation>Lastplan „%1“ gestartet</translation>
    </message>
    <message>
        <source>Load plan &quot;%1&quot;: %2 requests, %3 failed, p99 %4 ms</source>
        <translation>Lastplan „%1“: %2 Anfragen, %3 fehlgeschlagen, p99 %4 ms</translation>
    </message>
    <message>
        <source>Load could not start: %1</source>
        <translation>Last konnte nicht starten: %1</translation>
    </message>
    <message>
        <source>Cluster</source>
        <translation>Cluster</translation>
    </message>
    <message>
        <source>Launch local cluster</source>
        <translation>Lokalen Cluster starten</translation>
    </message>
    <message>
        <source>Start the bundled shop cluster on this machine and connect to it</source>
        <translation>Den mitgelieferten Shop-Cluster auf diesem Rechner starten und verbinden</translation>
    </message>
    <message>
        <source>Connect…</source>
        <translation>Verbinden…</translation>
    </message>
    <message>
        <source>Connect to a Kubernetes cluster from a kubeconfig context</source>
        <translation>Über einen kubeconfig-Kontext mit einem Kubernetes-Cluster verbinden</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>Stopp</translation>
    </message>
    <message>
        <source>Stop the load, stop the local cluster and disconnect</source>
        <translation>Last stoppen, lokalen Cluster stoppen und Verbindung trennen</translation>
    </message>
    <message>
        <source>Load</source>
        <translation>Last</translation>
    </message>
    <message>
        <source>Faults</source>
        <translation>Störungen</translation>
    </message>
    <message>
        <source>Charts</source>
        <translation>Diagramme</translation>
    </message>
    <message>
        <source>Topology</source>
        <translation>Topologie</translation>
    </message>
    <message>
        <source>Events</source>
        <translation>Ereignisse</translation>
    </message>
    <message>
        <source>Pod logs</source>
        <translation>Pod-Logs</translation>
    </message>
    <message>
        <source>Starting the local cluster (embedded profile: SQLite and in-process caches — install Redis and PostgreSQL for the full profile)…</source>
        <translation>Lokaler Cluster startet (Profil embedded: SQLite und prozessinterne Caches — für das volle Profil Redis und PostgreSQL installieren)…</translation>
    </message>
    <message>
        <source>Starting the local cluster (full profile: Redis, PostgreSQL primary and replica)…</source>
        <translation>Lokaler Cluster startet (volles Profil: Redis, PostgreSQL-Primary und -Replikat)…</translation>
    </message>
    <message>
        <source>local cluster, %1 profile</source>
        <translation>lokaler Cluster, Profil %1</translation>
    </message>
    <message>
        <source>Local cluster ready; gateway at %1</source>
        <translation>Lokaler Cluster bereit; Gateway unter %1</translation>
    </message>
    <message>
        <source>The local cluster&apos;s kubeconfig is unusable: %1</source>
        <translation>Die kubeconfig des lokalen Clusters ist unbrauchbar: %1</translation>
    </message>
    <message>
        <source>Cannot connect: %1</source>
        <translation>Verbindung nicht möglich: %1</translation>
    </message>
    <message>
        <source>%1 for %2 s (%3)</source>
        <translation>%1 für %2 s (%3)</translation>
    </message>
    <message numerus="yes">
        <source>Recover all: %n fault(s) removed</source>
        <translation>
            <numerusform>Alle aufheben: %n Störung entfernt</numerusform>
            <numerusform>Alle aufheben: %n Störungen entfernt</numerusform>
        </translation>
    </message>
    <message>
        <source>Connected to %1 (%2)</source>
        <translation>Verbunden mit %1 (%2)</translation>
    </message>
    <message>
        <source>Stopping the local cluster…</source>
        <translation>Lokaler Cluster wird gestoppt…</translation>
    </message>
    <message>
        <source>Quit Mambogo</source>
        <translation>Mambogo beenden</translation>
    </message>
    <message>
        <source>Load is running against the local cluster. Stop the load and the cluster, and quit?</source>
        <translation>Gegen den lokalen Cluster läuft Last. Last und Cluster stoppen und beenden?</translation>
    </message>
    <message>
        <source>not connected</source>
        <translation>nicht verbunden</translation>
    </message>
    <message>
        <source>starting local cluster…</source>
        <translation>lokaler Cluster startet…</translation>
    </message>
    <message>
        <source>stopping local cluster…</source>
        <translation>lokaler Cluster stoppt…</translation>
    </message>
    <message>
        <source> · load running</source>
        <translation> · Last läuft</translation>
    </message>
    <message>
        <source>Mambogo — %1</source>
        <translation>Mambogo — %1</translation>
    </message>
    <message>
        <source>Mambogo</source>
        <translation>Mambogo</translation>
    </message>
    <message>
        <source>Drills</source>
        <translation>Übungen</translation>
    </message>
    <message>
        <source>A drill is running. Abort it, roll back what it changed in the cluster, and quit?</source>
        <translation>Eine Übung läuft. Abbrechen, ihre Änderungen im Cluster zurücknehmen und beenden?</translation>
    </message>
    <message>
        <source>Rolling back the drill before quitting…</source>
        <translation>Die Übung wird vor dem Beenden zurückgenommen…</translation>
    </message>
    <message>
        <source>the console is closing</source>
        <translation>die Konsole wird geschlossen</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::PodLogView</name>
    <message>
        <source>Choose a pod in the Cluster tree and press Logs (or double-click it).</source>
        <translation>Einen Pod im Cluster-Baum wählen und Logs drücken (oder doppelklicken).</translation>
    </message>
    <message>
        <source>Follow</source>
        <translation>Folgen</translation>
    </message>
    <message>
        <source>Log of pod &lt;b&gt;%1&lt;/b&gt;</source>
        <translation>Log von Pod &lt;b&gt;%1&lt;/b&gt;</translation>
    </message>
    <message>
        <source>(no log: %1)</source>
        <translation>(kein Log: %1)</translation>
    </message>
</context>
<context>
    <name>mambogo::gui::TopologyView</name>
    <message>
        <source>%1 rps · %2 % err</source>
        <translation>%1 Anfr./s · %2 % Fehler</translation>
    </message>
    <message>
        <source>not deployed</source>
        <translation>nicht bereitgestellt</translation>
    </message>
    <message>
        <source>%1/%2 ready</source>
        <translation>%1/%2 bereit</translation>
    </message>
    <message>
        <source>circuit breaker %1 is %2</source>
        <translation>Circuit Breaker %1 ist %2</translation>
    </message>
    <message>
        <source> · %1 rps</source>
        <translation> · %1 Anfr./s</translation>
    </message>
</context>
</TS>
